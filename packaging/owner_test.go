package packaging

import (
	"io/fs"
	"strconv"
	"syscall"
)

// owner is "uid:gid" of a file.
func owner(info fs.FileInfo) string {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	return strconv.Itoa(int(st.Uid)) + ":" + strconv.Itoa(int(st.Gid))
}
