package main

import (
	"flag"
	"strings"
)

// flagsFirst puts the flags of args before its positional arguments, so
// that "enroll URL CODE --dir D" parses as "enroll --dir D URL CODE" (the
// flag package stops at the first argument that is not a flag). A flag
// takes the next argument as its value unless fs declares it boolean or it
// is written -name=value; "--" ends the flags (it is put between the two).
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue(fs, name) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(append(flags, "--"), rest...) // rest stays arguments, even "-CODE"
}

// takesValue reports whether the flag name of fs needs a value (an unknown
// flag does not: Parse refuses it).
func takesValue(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}
