package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is locked by the process that runs on a data directory (a hub,
// a restore) for as long as it does; it holds that process's pid.
const LockFile = "guichet.lock"

// ErrInUse: another hub (or a restore) runs on the data directory.
var ErrInUse = errors.New("the data directory is in use")

// lockDir takes dir's lock without waiting (flock: the kernel releases it
// when the process ends, however it ends). Two hubs on one database would
// each keep their own queue and hand out the same numbers.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := os.ReadFile(path)
			return nil, fmt.Errorf("%w: another hub or a restore (pid %s) runs on %s; stop it first: two hubs on one database would hand out the same ticket numbers",
				ErrInUse, strings.TrimSpace(string(pid)), dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
