// Package updates is the hub's shelf of release bundles (internal/release):
// an admin publishes a signed binary (guichet release publish), the hub
// serves the newest of each architecture to its devices.
//
// On disk, under the hub's data directory (DIR/updates):
//
//	update.pub                        the public key bundles must verify with
//	arm64/v1.4.0/guichet              a published binary
//	arm64/v1.4.0/guichet.minisig      its signature (the manifest in its trusted comment)
//
// A bundle is verified when it is published; devices verify it again
// before they run it (the hub is trusted to serve, not to sign).
package updates

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"aead.dev/minisign"
	"golang.org/x/sys/unix"

	"guichet/internal/atomicfile"
	"guichet/internal/release"
)

// KeyFile is the public key's file name in the shelf.
const KeyFile = "update.pub"

// Shelf is a hub's published bundles.
type Shelf struct {
	Dir string // DATA/updates
}

// ErrNoKey is a shelf without its public key.
var ErrNoKey = errors.New("no update key: guichet release publish --key FILE.pub sets it")

// Key reads the shelf's public key.
func (s Shelf) Key() (minisign.PublicKey, error) {
	k, err := release.ReadPublicKey(filepath.Join(s.Dir, KeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return k, ErrNoKey
	}
	return k, err
}

// KeyText is the shelf's public key as minisign writes it; "" without one.
func (s Shelf) KeyText() string {
	k, err := s.Key()
	if err != nil {
		return ""
	}
	return release.PublicKeyText(k)
}

// SetKey makes pub the key bundles must verify with. A shelf that has one
// keeps it unless replace (a rotation: docs/install.md).
func (s Shelf) SetKey(pub minisign.PublicKey, replace bool) error {
	if old, err := s.Key(); err == nil && !old.Equal(pub) && !replace {
		return fmt.Errorf("the hub already trusts key %X, not %X: to rotate it, see docs/install.md (--replace-key)", old.ID(), pub.ID())
	}
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return err
	}
	return writeFile(filepath.Join(s.Dir, KeyFile), []byte(release.PublicKeyText(pub)), 0o644)
}

// Publish verifies a binary and its signature with the shelf's key and
// puts them on the shelf.
func (s Shelf) Publish(binary, sig string) (release.Manifest, error) {
	key, err := s.Key()
	if err != nil {
		return release.Manifest{}, err
	}
	m, err := release.VerifyFile(key, binary, sig)
	if err != nil {
		return m, fmt.Errorf("%s: %w", binary, err)
	}
	if m.Flavour != release.FlavourDevice {
		return m, fmt.Errorf("%s: %w", binary, release.Refuse(release.ReasonWrongFlavour,
			"the %s's build: the hub serves devices the device's (guichet-device-linux-%s, scripts/release.sh)", m.Flavour, m.Arch))
	}
	dir := filepath.Join(s.Dir, m.Arch, m.Version)
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return m, err
	}
	// A folder of its own (hidden: List skips it), written whole and
	// synced, then renamed into place and the rename synced.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+m.Version+".*")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o750); err != nil {
		return m, err
	}
	if err := copyFile(binary, filepath.Join(tmp, release.BinaryName), 0o644); err != nil {
		return m, err
	}
	if err := copyFile(sig, filepath.Join(tmp, release.SigName), 0o644); err != nil {
		return m, err
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return m, err
	}
	if err := replaceDir(tmp, dir); err != nil {
		return m, fmt.Errorf("publish %s: %w", dir, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
		return m, err
	}
	return m, nil
}

// Bundle is a bundle on the shelf.
type Bundle struct {
	release.Manifest
	Signature []byte
	Binary    string // its file
}

// Newest returns the newest bundle published for arch (ok false: none).
func (s Shelf) Newest(arch string) (b Bundle, ok bool, err error) {
	all, err := s.List(arch)
	if err != nil || len(all) == 0 {
		return b, false, err
	}
	return all[len(all)-1], true, nil
}

// List returns the bundles published for arch, oldest first. A folder
// whose signature does not parse, or says another version or arch than
// its place, or is not a device's build, is left out.
func (s Shelf) List(arch string) ([]Bundle, error) {
	if !slices.Contains(release.Arches, arch) {
		return nil, nil
	}
	ents, err := os.ReadDir(filepath.Join(s.Dir, arch))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Bundle
	for _, e := range ents {
		if !e.IsDir() || release.ValidVersion(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(s.Dir, arch, e.Name())
		sig, err := os.ReadFile(filepath.Join(dir, release.SigName))
		if err != nil {
			continue
		}
		m, _, err := release.PeekManifest(sig)
		if err != nil || m.Version != e.Name() || m.Arch != arch || m.Flavour != release.FlavourDevice {
			continue
		}
		out = append(out, Bundle{Manifest: m, Signature: sig, Binary: filepath.Join(dir, release.BinaryName)})
	}
	sortBundles(out)
	return out, nil
}

// Get returns the bundle of arch and version (ok false: none).
func (s Shelf) Get(arch, version string) (Bundle, bool, error) {
	all, err := s.List(arch)
	if err != nil {
		return Bundle{}, false, err
	}
	for _, b := range all {
		if b.Version == version {
			return b, true, nil
		}
	}
	return Bundle{}, false, nil
}

// Newests returns the newest version published per architecture.
func (s Shelf) Newests() map[string]string {
	out := map[string]string{}
	for _, a := range release.Arches {
		if b, ok, _ := s.Newest(a); ok {
			out[a] = b.Version
		}
	}
	return out
}

// NewestVersion is the newest version published for any architecture; ""
// when none.
func (s Shelf) NewestVersion() string {
	newest := ""
	for _, v := range s.Newests() {
		if release.Compare(v, newest) > 0 {
			newest = v
		}
	}
	return newest
}

func sortBundles(b []Bundle) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && release.Compare(b[j-1].Version, b[j].Version) > 0; j-- {
			b[j-1], b[j] = b[j], b[j-1]
		}
	}
}

func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// replaceDir puts folder tmp at dir in one step: renamed when dir is not
// there, else exchanged with it (the device downloading the version sees
// the old bundle or the new, never none); the old one is left at tmp.
func replaceDir(tmp, dir string) error {
	for range 3 {
		err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE)
		if !errors.Is(err, unix.ENOENT) {
			return err
		}
		// dir is not there (yet, or no more): a plain rename, which fails
		// if another publish put it there meanwhile; then exchange again.
		err = os.Rename(tmp, dir)
		if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	return errors.New("published by others at the same time: try again")
}

// writeFile writes name whole or not at all (atomicfile), with perm.
func writeFile(name string, b []byte, perm os.FileMode) error {
	return atomicfile.Write(name, b, func(f *os.File) error { return f.Chmod(perm) })
}
