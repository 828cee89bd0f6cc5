package release

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"aead.dev/minisign"
)

// Reason codes of a refused or failed update: what a device reports in its
// state (api.DeviceUpdate.Reason), and what Error carries.
const (
	ReasonBadSignature = "bad_signature" // tampered binary or manifest, or not a signature
	ReasonOtherKey     = "other_key"     // signed by a key this device does not trust
	ReasonOldVersion   = "old_version"   // not above the highest version ever installed
	ReasonWrongArch    = "wrong_arch"    // built for another board
	ReasonWrongFlavour = "wrong_flavour" // the hub's build, not the device's
	ReasonBadVersion   = "bad_version"   // rolled back before: never tried again
	ReasonTooOld       = "too_old"       // this device is below the bundle's min version
	ReasonDownload     = "download"      // the hub or the network failed
	ReasonDisk         = "disk"          // writing it failed (full, read-only)
	ReasonUnhealthy    = "unhealthy"     // the new version did not report healthy in time
	ReasonWrongVersion = "wrong_version" // the binary says another version than it was signed as
	ReasonOffline      = "offline"       // the new version ran but never reached the hub: tried again later
	ReasonInsecure     = "insecure"      // the hub's address is plain http and not this machine
)

// Reasons are all the reason codes.
var Reasons = []string{ReasonBadSignature, ReasonOtherKey, ReasonOldVersion, ReasonWrongArch, ReasonBadVersion,
	ReasonTooOld, ReasonDownload, ReasonDisk, ReasonUnhealthy, ReasonWrongVersion, ReasonOffline, ReasonInsecure}

// Error is an update refused or failed, with its reason code.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Reason is err's reason code, or ReasonDownload for another error.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonDownload
}

// Refuse returns an *Error with reason.
func Refuse(reason, format string, args ...any) error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// GenerateKey returns a new key pair: the public key as minisign writes it
// (minisign.pub), and the secret key, encrypted with password when it is
// not empty (minisign -G; -W without).
func GenerateKey(password string) (pub, sec []byte, err error) {
	p, s, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	pub = []byte(PublicKeyText(p))
	if password != "" {
		sec, err = minisign.EncryptKey(password, s)
	} else {
		sec, err = s.MarshalText()
	}
	if err != nil {
		return nil, nil, err
	}
	return pub, append(sec, '\n'), nil
}

// ParsePublicKey reads a public key as minisign writes it (with or without
// its untrusted comment line).
func ParsePublicKey(b []byte) (minisign.PublicKey, error) {
	var k minisign.PublicKey
	if err := k.UnmarshalText(bytes.TrimSpace(b)); err != nil {
		return k, fmt.Errorf("update public key: %w", err)
	}
	return k, nil
}

// ReadPublicKey reads a public key file (minisign.pub).
func ReadPublicKey(name string) (minisign.PublicKey, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return minisign.PublicKey{}, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return k, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

// ParseSecretKey reads a secret key as minisign writes it, encrypted
// (password needed) or not.
func ParseSecretKey(b []byte, password string) (minisign.PrivateKey, error) {
	if minisign.IsEncrypted(b) {
		if password == "" {
			return minisign.PrivateKey{}, errors.New("the secret key is encrypted: give its password (GUICHET_SIGNING_PASSWORD)")
		}
		k, err := minisign.DecryptKey(password, b)
		if err != nil {
			return k, fmt.Errorf("secret key: wrong password or not a minisign key")
		}
		return k, nil
	}
	var k minisign.PrivateKey
	if err := k.UnmarshalText(b); err != nil {
		return k, errors.New("secret key: not a minisign secret key")
	}
	return k, nil
}

// PublicKeyText is k as minisign writes it, for a file or an answer.
func PublicKeyText(k minisign.PublicKey) string {
	t, _ := k.MarshalText() // with its untrusted comment line
	return string(t) + "\n"
}

// Sign reads a binary and returns its signature (a .minisig file) whose
// trusted comment is its manifest: version, arch, min version and flavour
// (FlavourDevice when empty) from m,
// size and hash from what it reads. The binary is hashed as it streams
// (minisign's prehashed mode, as minisign -S signs by default).
func Sign(key minisign.PrivateKey, binary io.Reader, m Manifest) ([]byte, Manifest, error) {
	h := sha256.New()
	r := minisign.NewReader(binary)
	n, err := io.Copy(h, io.LimitReader(r, MaxBinary+1))
	if err != nil {
		return nil, m, fmt.Errorf("read the binary: %w", err)
	}
	m.SHA256, m.Size = hex.EncodeToString(h.Sum(nil)), n
	if m.Flavour == "" {
		m.Flavour = FlavourDevice // bundles are what devices install
	}
	if err := m.Check(); err != nil {
		return nil, m, err
	}
	untrusted := "signature from guichet release sign, key " + strings.ToUpper(strconv.FormatUint(key.ID(), 16))
	return r.SignWithComments(key, m.Comment(), untrusted), m, nil
}

// Verify reads a binary and checks its signature against key; it returns
// the signed manifest. The refusals are *Error: ReasonOtherKey for a
// signature of another key, ReasonBadSignature for a binary or a manifest
// changed since it was signed (or what is not a signature).
func Verify(key minisign.PublicKey, binary io.Reader, sig []byte) (Manifest, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return Manifest{}, Refuse(ReasonBadSignature, "not a minisign signature: %v", err)
	}
	if s.KeyID != key.ID() {
		return Manifest{}, Refuse(ReasonOtherKey, "signed by key %X, this device trusts %X", s.KeyID, key.ID())
	}
	if s.Algorithm != minisign.HashEdDSA {
		return Manifest{}, Refuse(ReasonBadSignature, "legacy signature (minisign -l): sign with minisign -S")
	}
	h := sha256.New()
	r := minisign.NewReader(binary)
	n, err := io.Copy(h, io.LimitReader(r, MaxBinary+1))
	if err != nil {
		return Manifest{}, Refuse(ReasonDownload, "read the binary: %w", err)
	}
	if !r.Verify(key, sig) {
		return Manifest{}, Refuse(ReasonBadSignature, "the signature does not match the binary and its manifest: changed since signed")
	}
	m, err := ParseComment(s.TrustedComment)
	if err != nil {
		return m, Refuse(ReasonBadSignature, "signed, but %w", err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); m.SHA256 != sum || m.Size != n {
		return m, Refuse(ReasonBadSignature, "signed, but the manifest's hash or size is not the binary's")
	}
	return m, nil
}

// VerifyFile verifies a binary file and its signature file.
func VerifyFile(key minisign.PublicKey, binary, sigFile string) (Manifest, error) {
	sig, err := os.ReadFile(sigFile)
	if err != nil {
		return Manifest{}, Refuse(ReasonBadSignature, "signature: %w", err)
	}
	f, err := os.Open(binary)
	if err != nil {
		return Manifest{}, Refuse(ReasonDisk, "binary: %w", err)
	}
	defer f.Close()
	return Verify(key, f, sig)
}

// PeekManifest reads a signature's trusted comment WITHOUT verifying it:
// what the hub lists, and a device uses to decide whether to download.
// Nothing is installed on its word: Verify decides.
func PeekManifest(sig []byte) (Manifest, uint64, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return Manifest{}, 0, Refuse(ReasonBadSignature, "not a minisign signature: %v", err)
	}
	m, err := ParseComment(s.TrustedComment)
	return m, s.KeyID, err
}

// BinaryName and SigName are a bundle's files in a version's folder, on
// the hub and on a device.
const (
	BinaryName = "guichet"
	SigName    = "guichet.minisig"
)

// Fail wraps err with a reason code.
func Fail(reason string, err error) error { return &Error{Reason: reason, Err: err} }
