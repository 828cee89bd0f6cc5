//go:build !device

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"guichet/hub/updates"
	"guichet/internal/release"
)

const releaseUsage = `usage:
  guichet release keygen  --out DIR                  a new signing key pair: DIR/guichet-update.pub, DIR/guichet-update.key
  guichet release sign    --key FILE --version V [--min V] [--arch A] [--flavour device] BINARY...   write BINARY.minisig
  guichet release verify  --pub FILE BINARY...       check BINARY.minisig, print its manifest
  guichet release publish [--data DIR] [--key FILE.pub [--replace-key]] BINARY...
                                                     put signed binaries on the hub's shelf
The secret key is read from --key or the file GUICHET_SIGNING_KEY names; an
encrypted key's password from GUICHET_SIGNING_PASSWORD. Keys and signatures
are minisign's: minisign -V -p guichet-update.pub -m BINARY checks them too.`

// runRelease signs and publishes update bundles (docs/install.md).
func runRelease(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(releaseUsage)
	}
	verb, rest := args[0], args[1:]
	fs := flag.NewFlagSet("release "+verb, flag.ContinueOnError)
	dir := fs.String("out", "", "keygen: the folder for the key pair")
	key := fs.String("key", os.Getenv("GUICHET_SIGNING_KEY"), "sign: the secret key file; publish: the public key the hub should trust")
	pub := fs.String("pub", "", "verify: the public key file")
	version := fs.String("version", "", "sign: the release's version (semver tag, v1.4.0)")
	minV := fs.String("min", "", "sign: the lowest version that may update to this one")
	arch := fs.String("arch", "", "sign: amd64, arm64 or armv7 (default: from the name guichet-linux-ARCH)")
	flavour := fs.String("flavour", release.FlavourDevice, "sign: the binary's build, device (guichet-device-linux-ARCH, what devices install) or hub")
	data := fs.String("data", "data", "publish: the hub's data directory")
	replace := fs.Bool("replace-key", false, "publish: replace the key the hub trusts (a rotation)")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), releaseUsage); fs.PrintDefaults() }
	if err := fs.Parse(flagsFirst(fs, rest)); err != nil {
		return err
	}
	password := os.Getenv("GUICHET_SIGNING_PASSWORD")
	switch verb {
	case "keygen":
		if *dir == "" {
			return errors.New("release keygen --out DIR")
		}
		p, s, err := release.GenerateKey(password)
		if err != nil {
			return err
		}
		pubFile, secFile := filepath.Join(*dir, "guichet-update.pub"), filepath.Join(*dir, "guichet-update.key")
		for _, f := range []string{pubFile, secFile} {
			if _, err := os.Stat(f); err == nil {
				return fmt.Errorf("%s exists: a new key would orphan every device that trusts it (docs/install.md: rotation)", f)
			}
		}
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(secFile, s, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(pubFile, p, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "Clé publique : %s (à donner au hub : guichet release publish --key %s)\nClé secrète : %s (hors du hub, hors du dépôt ; sauvegarde chiffrée)\n", pubFile, pubFile, secFile)
		if password == "" {
			fmt.Fprintln(out, "Attention : la clé secrète n'est pas chiffrée (GUICHET_SIGNING_PASSWORD vide).")
		}
		return nil
	case "sign":
		if *key == "" || *version == "" || fs.NArg() == 0 {
			return errors.New("release sign --key FILE --version V BINARY... (or GUICHET_SIGNING_KEY=FILE)")
		}
		if err := release.ValidVersion(*version); err != nil {
			return err
		}
		b, err := os.ReadFile(*key)
		if err != nil {
			return fmt.Errorf("signing key: %w", err)
		}
		sk, err := release.ParseSecretKey(b, password)
		if err != nil {
			return err
		}
		for _, bin := range fs.Args() {
			a := *arch
			if a == "" {
				a = archOfName(bin)
			}
			if err := checkBuiltVersion(bin, *version); err != nil {
				return err
			}
			f, err := os.Open(bin)
			if err != nil {
				return err
			}
			sig, m, err := release.Sign(sk, f, release.Manifest{Version: *version, Arch: a, MinVersion: *minV, Flavour: *flavour})
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", bin, err)
			}
			if err := os.WriteFile(bin+".minisig", sig, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s.minisig  %s\n", bin, m.Comment())
		}
		return nil
	case "verify":
		if *pub == "" || fs.NArg() == 0 {
			return errors.New("release verify --pub FILE BINARY...")
		}
		k, err := release.ReadPublicKey(*pub)
		if err != nil {
			return err
		}
		for _, bin := range fs.Args() {
			m, err := release.VerifyFile(k, bin, bin+".minisig")
			if err != nil {
				return fmt.Errorf("%s: %w", bin, err)
			}
			fmt.Fprintf(out, "%s: signature valide — %s\n", bin, m.Comment())
		}
		return nil
	case "publish":
		shelf := updates.Shelf{Dir: filepath.Join(*data, "updates")}
		if *key != "" && *key != os.Getenv("GUICHET_SIGNING_KEY") {
			k, err := release.ReadPublicKey(*key)
			if err != nil {
				return err
			}
			if err := shelf.SetKey(k, *replace); err != nil {
				return err
			}
		}
		if fs.NArg() == 0 && *key == "" {
			return errors.New(releaseUsage)
		}
		for _, bin := range fs.Args() {
			m, err := shelf.Publish(bin, bin+".minisig")
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Publié : %s pour %s (%d octets). Les appareils le prennent à leur prochaine vérification.\n", m.Version, m.Arch, m.Size)
		}
		return nil
	}
	return errors.New(releaseUsage)
}

// archOfName reads the architecture of a release binary's name
// (guichet-linux-arm64, guichet-device-linux-arm64).
func archOfName(name string) string {
	for _, a := range release.Arches {
		if strings.HasSuffix(filepath.Base(name), "-"+a) {
			return a
		}
	}
	return release.HostArch()
}
