// Package release is the format of Guichet's update bundles, shared by the
// hub that serves them, the devices that install them (firmware/update)
// and the commands that sign them: a binary and its signature in
// minisign's format, whose trusted comment — signed with the binary — is
// the bundle's manifest (version, architecture, hash, size, min version).
//
// Why minisign and not The Update Framework: docs/install.md (« Mises à
// jour signées »).
package release

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// Manifest is what a bundle says of its binary. It is the signature's
// trusted comment, which minisign signs with the binary: a version, an
// architecture or a hash cannot be swapped without the key.
type Manifest struct {
	Version    string `json:"version"`               // semver, v1.4.0
	Arch       string `json:"arch"`                  // amd64, arm64, armv7
	SHA256     string `json:"sha256"`                // of the binary, hex
	Size       int64  `json:"size"`                  // of the binary, bytes
	MinVersion string `json:"min_version,omitempty"` // a device below it must first install another release
	Flavour    string `json:"flavour"`               // FlavourDevice or FlavourHub: which build the binary is
}

// The flavours of a binary (docs/install.md, « Deux paquets »): the hub's
// build holds every command; the device's (-tags device) only the device
// roles. Update bundles are device binaries; a bundle whose trusted comment
// names no flavour was signed before the split, of a whole (hub) binary.
const (
	FlavourHub    = "hub"
	FlavourDevice = "device"
)

// commentTag starts every trusted comment of a Guichet bundle.
const commentTag = "guichet-update"

// Arches are the architectures releases are built for.
var Arches = []string{"amd64", "arm64", "armv7"}

// MaxBinary bounds a bundle's binary (a Guichet binary is ~30 MB).
const MaxBinary = 256 << 20

var (
	semverRe = regexp.MustCompile(`^v?(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})(?:-([0-9A-Za-z.-]{1,40}))?$`)
	// describeRe is git describe's suffix past a tag (v1.2.0-5-gabc1234):
	// not a release, and semver would order it before v1.2.0.
	describeRe = regexp.MustCompile(`-[0-9]+-g[0-9a-f]{4,40}(-dirty)?$`)
	hexRe      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// HostArch is this binary's architecture as releases name it.
func HostArch() string {
	if runtime.GOARCH == "arm" {
		return "armv7"
	}
	return runtime.GOARCH
}

// ValidVersion reports why v is not a release version ("" when it is):
// semver (v1.4.0, v1.5.0-rc.1), not a git describe between tags nor a
// dirty tree.
func ValidVersion(v string) error {
	if !semverRe.MatchString(v) {
		return fmt.Errorf("version %q: a release is a semver tag, v1.4.0 (git tag v1.4.0)", v)
	}
	if describeRe.MatchString(v) || strings.HasSuffix(v, "-dirty") {
		return fmt.Errorf("version %q: built between tags or from a modified tree; tag the release", v)
	}
	return nil
}

// Compare orders two versions as semver does: -1, 0 or 1. A version that is
// not semver (dev, a commit hash) is below every release.
func Compare(a, b string) int {
	pa, oka := parse(a)
	pb, okb := parse(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return -1
	case !okb:
		return 1
	}
	for i := range 3 {
		if pa.n[i] != pb.n[i] {
			if pa.n[i] < pb.n[i] {
				return -1
			}
			return 1
		}
	}
	return comparePre(pa.pre, pb.pre)
}

type semver struct {
	n   [3]int
	pre string
}

func parse(v string) (semver, bool) {
	m := semverRe.FindStringSubmatch(v)
	if m == nil {
		return semver{}, false
	}
	var s semver
	for i := range 3 {
		s.n[i], _ = strconv.Atoi(m[i+1])
	}
	s.pre = m[4]
	return s, true
}

// comparePre orders pre-releases: none is above any; else field by field,
// numbers below words.
func comparePre(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	fa, fb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(fa) && i < len(fb); i++ {
		if fa[i] == fb[i] {
			continue
		}
		na, ea := strconv.Atoi(fa[i])
		nb, eb := strconv.Atoi(fb[i])
		switch {
		case ea == nil && eb == nil:
			if na < nb {
				return -1
			}
			return 1
		case ea == nil:
			return -1
		case eb == nil:
			return 1
		case fa[i] < fb[i]:
			return -1
		default:
			return 1
		}
	}
	switch {
	case len(fa) < len(fb):
		return -1
	case len(fa) > len(fb):
		return 1
	}
	return 0
}

// Comment is the manifest as the signature's trusted comment:
//
//	guichet-update version=v1.4.0 arch=arm64 sha256=… size=31457280 min=v1.0.0 flavour=device
func (m Manifest) Comment() string {
	s := fmt.Sprintf("%s version=%s arch=%s sha256=%s size=%d", commentTag, m.Version, m.Arch, m.SHA256, m.Size)
	if m.MinVersion != "" {
		s += " min=" + m.MinVersion
	}
	if m.Flavour != "" {
		s += " flavour=" + m.Flavour
	}
	return s
}

// ParseComment reads a trusted comment into a manifest, and checks it.
func ParseComment(c string) (Manifest, error) {
	f := strings.Fields(c)
	if len(f) == 0 || f[0] != commentTag {
		return Manifest{}, fmt.Errorf("trusted comment: not a Guichet bundle's (%q expected first)", commentTag)
	}
	m := Manifest{Flavour: FlavourHub} // signed before the flavours: a whole binary
	seen := map[string]bool{}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return Manifest{}, fmt.Errorf("trusted comment: %.40q", kv)
		}
		seen[k] = true
		switch k {
		case "version":
			m.Version = v
		case "arch":
			m.Arch = v
		case "sha256":
			m.SHA256 = v
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Manifest{}, fmt.Errorf("trusted comment: size %.20q", v)
			}
			m.Size = n
		case "min":
			m.MinVersion = v
		case "flavour":
			m.Flavour = v
		default: // a later field this version does not know: signed, so kept out of decisions
		}
	}
	return m, m.Check()
}

// Check reports what is wrong with a manifest.
func (m Manifest) Check() error {
	if err := ValidVersion(m.Version); err != nil {
		return err
	}
	if m.MinVersion != "" {
		if _, ok := parse(m.MinVersion); !ok {
			return fmt.Errorf("min version %.40q: not semver", m.MinVersion)
		}
	}
	switch {
	case !validArch(m.Arch):
		return fmt.Errorf("arch %.20q: one of %s", m.Arch, strings.Join(Arches, ", "))
	case m.Flavour != FlavourHub && m.Flavour != FlavourDevice:
		return fmt.Errorf("flavour %.20q: %s or %s", m.Flavour, FlavourDevice, FlavourHub)
	case !hexRe.MatchString(m.SHA256):
		return errors.New("sha256: 64 hex digits expected")
	case m.Size <= 0 || m.Size > MaxBinary:
		return fmt.Errorf("size %d: 1 to %d bytes", m.Size, MaxBinary)
	}
	return nil
}

func validArch(a string) bool {
	for _, x := range Arches {
		if a == x {
			return true
		}
	}
	return false
}
