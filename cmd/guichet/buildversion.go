package main

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"strings"
)

// builtVersion reads the version a guichet binary was built as (go build
// -ldflags "-X main.version=V", as the Makefile and the release script
// do), from the build information Go writes in every binary; "" when it
// was built without one.
func builtVersion(path string) (string, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: not a Go binary: %w", path, err)
	}
	for _, s := range bi.Settings {
		if s.Key == "-ldflags" {
			return ldflagsVersion(s.Value), nil
		}
	}
	return "", nil
}

// ldflagsVersion finds -X main.version=V in linker flags (the last one
// wins, as with the linker).
func ldflagsVersion(flags string) string {
	v := ""
	fields := strings.Fields(flags)
	for i, f := range fields {
		def := ""
		switch {
		case f == "-X" || f == "--X":
			if i+1 < len(fields) {
				def = fields[i+1]
			}
		case strings.HasPrefix(f, "-X="):
			def = f[len("-X="):]
		case strings.HasPrefix(f, "--X="):
			def = f[len("--X="):]
		}
		def = strings.Trim(def, `'"`)
		if rest, ok := strings.CutPrefix(def, "main.version="); ok {
			v = rest
		}
	}
	return v
}

// checkBuiltVersion refuses to sign a binary as another version than it
// was built as: the device would run it on trial for a version it does not
// say it is, and roll it back (release.ReasonWrongVersion).
func checkBuiltVersion(path, version string) error {
	got, err := builtVersion(path)
	switch {
	case err != nil:
		return err
	case got == "":
		return errors.New(path + ": built without its version (go build -ldflags \"-X main.version=" + version + "\", as make does)")
	case got != version:
		return fmt.Errorf("%s is built as %s, not %s: build it with -ldflags \"-X main.version=%s\"", path, got, version, version)
	}
	return nil
}
