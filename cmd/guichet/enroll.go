package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"guichet/firmware/update"
	"guichet/hub/api"
	"guichet/internal/atomicfile"
	"guichet/internal/release"
)

const enrollUsage = `usage: guichet enroll [--dir /etc/guichet] [--start] [--insecure] [--hub-ca FILE] HUB_URL CODE
  Exchanges the one-time code the hub's administration gave for this device
  (Appareils → Code d'enrôlement) for its settings, and writes them where the
  service reads them: DIR/ROLE.env (GUICHET_ARGS) and DIR/ROLE.secret.`

// Bounds on what the hub answers: a hub is trusted with the code, not with
// the device's file system.
const (
	maxEnrollAnswer = 256 << 10
	maxBrokerURL    = 512
	maxCAPEM        = 64 << 10
)

var (
	enrollIDRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	enrollSecretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{32,128}$`)
	// connFlags are the flags of GUICHET_ARGS that enroll writes; the
	// others (printer, buttons…) are kept from the file already there.
	connFlags = []string{"hub", "site", "device", "secret-file", "tls-ca", "counter", "update-url", "update-key", "update-ca"}
)

// runEnroll enrolls this device with a one-time code.
func runEnroll(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	dir := fs.String("dir", "/etc/guichet", "where the services read their settings")
	start := fs.Bool("start", false, "then run systemctl enable --now guichet-ROLE")
	insecure := fs.Bool("insecure", false, "allow an http:// hub that is not on this machine (the code and secret then cross the network in clear)")
	hubCA := fs.String("hub-ca", "", "CA certificate (PEM) of the hub's HTTPS, when it is not signed by a public authority")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), enrollUsage); fs.PrintDefaults() }
	if err := fs.Parse(flagsFirst(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New(enrollUsage)
	}
	hubURL, code := fs.Arg(0), fs.Arg(1)
	if strings.ContainsAny(strings.TrimSpace(hubURL), "\r\n\t \"'\\$`") {
		return fmt.Errorf("hub address %q: no spaces or quotes", sanitize(hubURL, 80))
	}
	endpoint, err := enrollEndpoint(hubURL, *insecure)
	if err != nil {
		return err
	}
	client, err := enrollClient(*hubCA)
	if err != nil {
		return err
	}
	e, err := fetchEnrollment(ctx, client, endpoint, code)
	if err != nil {
		return err
	}
	if err := checkEnrollment(e); err != nil {
		return fmt.Errorf("the hub's answer: %w", err)
	}
	var hubCAPEM []byte
	if *hubCA != "" {
		if hubCAPEM, err = os.ReadFile(*hubCA); err != nil {
			return fmt.Errorf("--hub-ca: %w", err)
		}
	}
	written, err := writeEnrollment(*dir, e, hubURL, hubCAPEM)
	if err != nil {
		return err
	}
	unit := "guichet-" + e.Role
	fmt.Fprintf(out, "Appareil %s (%s) enrôlé sur le site %s. Fichiers écrits :\n", e.ID, e.Role, e.Site)
	for _, f := range written {
		fmt.Fprintf(out, "  %s\n", f)
	}
	if e.Role == api.RoleIntegration {
		fmt.Fprintln(out, "Une intégration n'a pas de service : son secret est dans le fichier ci-dessus.")
		return nil
	}
	if e.UpdateKey != "" && update.SafeHub(strings.TrimSpace(hubURL)) != nil {
		fmt.Fprintln(out, "Mises à jour : pas de --update-url, le hub est en http:// sur une autre machine (le secret de l'appareil passerait en clair à chaque vérification). Enrôler avec l'adresse https:// du hub pour les recevoir.")
	}
	fmt.Fprintf(out, "Ajouter les options du rôle (imprimante, boutons…) à GUICHET_ARGS dans %s, puis :\n  sudo systemctl enable --now %s\n",
		filepath.Join(*dir, e.Role+".env"), unit)
	if *start {
		if _, err := exec.LookPath("systemctl"); err != nil {
			return errors.New("--start: no systemctl on this machine; start the role by hand")
		}
		cmd := exec.CommandContext(ctx, "systemctl", "enable", "--now", unit)
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("systemctl enable --now %s: %w", unit, err)
		}
		fmt.Fprintf(out, "%s démarré.\n", unit)
	}
	return nil
}

// enrollEndpoint is the enrollment URL of the hub at hubURL: https://, or
// http:// on this machine only (else with insecure).
func enrollEndpoint(hubURL string, insecure bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(hubURL))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("hub address %q: give the hub's web address, e.g. https://hub.mairie.local", hubURL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure && !loopbackHost(u.Hostname()) {
			return "", fmt.Errorf("hub address %q: http:// would send the code and the device's secret in clear; use https:// (or --insecure on a network you trust)", hubURL)
		}
	default:
		return "", fmt.Errorf("hub address %q: the hub's web address, https://…", hubURL)
	}
	u.Path, u.RawQuery, u.Fragment = strings.TrimSuffix(u.Path, "/")+"/api/v1/enroll", "", ""
	return u.String(), nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// enrollClient is the HTTP client of enrollment: the system's authorities,
// or those of the PEM file caFile.
func enrollClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--hub-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--hub-ca %s: no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}

func fetchEnrollment(ctx context.Context, client *http.Client, endpoint, code string) (*api.Enrollment, error) {
	body, _ := json.Marshal(map[string]string{"code": strings.TrimSpace(code)})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxEnrollAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if len(b) > maxEnrollAnswer {
		return nil, fmt.Errorf("enroll: the hub's answer is over %d bytes", maxEnrollAnswer)
	}
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden, http.StatusNotFound:
		return nil, errors.New("code refusé : inconnu, déjà utilisé ou expiré ; demander un nouveau code à l'administrateur du hub (code refused: unknown, used or expired)")
	case http.StatusTooManyRequests:
		return nil, fmt.Errorf("trop de codes faux : réessayer dans %s s (too many wrong codes)", sanitize(res.Header.Get("Retry-After"), 8))
	default:
		return nil, fmt.Errorf("enroll: the hub answered %s: %s", res.Status, sanitize(string(b), 200))
	}
	var e api.Enrollment
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("the hub's answer: %w", err)
	}
	return &e, nil
}

// sanitize keeps at most n printable characters of s, for a message.
func sanitize(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// checkEnrollment refuses an answer that would write anything but plain
// settings: every value goes into a file a service reads.
func checkEnrollment(e *api.Enrollment) error {
	switch {
	case !api.ValidDeviceID(e.ID):
		return fmt.Errorf("device id %q", sanitize(e.ID, 80))
	case !slices.Contains(api.Roles, e.Role):
		return fmt.Errorf("role %q", sanitize(e.Role, 40))
	case !enrollIDRe.MatchString(e.Site):
		return fmt.Errorf("site %q", sanitize(e.Site, 80))
	case e.Counter != "" && !enrollIDRe.MatchString(e.Counter):
		return fmt.Errorf("counter %q", sanitize(e.Counter, 80))
	case e.Role == api.RoleCounter && e.Counter == "":
		return errors.New("a counter terminal without its counter")
	case !enrollSecretRe.MatchString(e.Secret):
		return errors.New("the secret is not one the hub gives")
	case len(e.MQTTURLs) == 0 || len(e.MQTTURLs) > 8:
		return errors.New("no MQTT address")
	case len(e.CAPEM) > maxCAPEM:
		return fmt.Errorf("the CA certificate is over %d bytes", maxCAPEM)
	case len(e.UpdateKey) > 1024:
		return errors.New("the update key is over 1 KiB")
	}
	if e.UpdateKey != "" {
		if _, err := release.ParsePublicKey([]byte(e.UpdateKey)); err != nil {
			return err
		}
	}
	for _, u := range e.MQTTURLs {
		if err := checkBrokerURL(u); err != nil {
			return err
		}
	}
	if e.CAPEM != "" {
		if b, _ := pem.Decode([]byte(e.CAPEM)); b == nil || b.Type != "CERTIFICATE" {
			return errors.New("the CA certificate is not a PEM certificate")
		}
	}
	return nil
}

func checkBrokerURL(s string) error {
	if len(s) > maxBrokerURL || strings.ContainsAny(s, "\r\n\t \"'\\$`") {
		return fmt.Errorf("MQTT address %q", sanitize(s, 80))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl") || u.Hostname() == "" || u.Port() == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("MQTT address %q: tcp://host:port or ssl://host:port", sanitize(s, 80))
	}
	return nil
}

// brokerFor picks the broker a device connects to: ssl:// when the hub
// gave its CA certificate, else the first.
func brokerFor(e *api.Enrollment) string {
	if e.CAPEM != "" {
		for _, u := range e.MQTTURLs {
			if strings.HasPrefix(u, "ssl://") {
				return u
			}
		}
	}
	for _, u := range e.MQTTURLs {
		if strings.HasPrefix(u, "tcp://") {
			return u
		}
	}
	return e.MQTTURLs[0]
}

// writeEnrollment writes ROLE.secret (0640), ROLE-ca.pem, update.pub (the
// key updates are signed with, when the hub serves them) and ROLE.env
// (0640) in dir, group guichet when run as root and the group exists (the
// services run as guichet). The flags of the role already in ROLE.env are
// kept; the connection's are replaced. hubURL is where updates are fetched,
// trusted with hubCA (PEM; nil: the system's authorities).
func writeEnrollment(dir string, e *api.Enrollment, hubURL string, hubCA []byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	secretFile := filepath.Join(dir, e.Role+".secret")
	if err := writeFileAtomic(secretFile, []byte(e.Secret+"\n"), 0o640); err != nil {
		return nil, err
	}
	written = append(written, secretFile)
	broker := brokerFor(e)
	args := []string{"--hub", broker, "--site", e.Site, "--device", e.ID, "--secret-file", secretFile}
	if e.Counter != "" {
		args = append(args, "--counter", e.Counter)
	}
	if e.CAPEM != "" && strings.HasPrefix(broker, "ssl://") {
		caFile := filepath.Join(dir, e.Role+"-ca.pem")
		if err := writeFileAtomic(caFile, []byte(e.CAPEM), 0o644); err != nil {
			return nil, err
		}
		written = append(written, caFile)
		args = append(args, "--tls-ca", caFile)
	}
	if e.UpdateKey != "" {
		keyFile := filepath.Join(dir, "update.pub")
		if err := writeFileAtomic(keyFile, []byte(e.UpdateKey), 0o644); err != nil {
			return nil, err
		}
		written = append(written, keyFile)
		args = append(args, "--update-key", keyFile)
		if u := strings.TrimSuffix(strings.TrimSpace(hubURL), "/"); update.SafeHub(u) == nil {
			// Not over plain http to another machine (--insecure): the
			// device's secret would cross the network at every check.
			args = append(args, "--update-url", u)
		}
		if len(hubCA) > 0 {
			caFile := filepath.Join(dir, "update-ca.pem")
			if err := writeFileAtomic(caFile, hubCA, 0o644); err != nil {
				return nil, err
			}
			written = append(written, caFile)
			args = append(args, "--update-ca", caFile)
		}
	}
	envFile := filepath.Join(dir, e.Role+".env")
	old, _ := os.ReadFile(envFile)
	args = append(args, keptArgs(old)...)
	env := fmt.Sprintf("# Écrit par « guichet enroll » le %s : l'appareil %s du site %s.\n"+
		"# Les options du rôle (imprimante, boutons…) s'ajoutent à la fin de GUICHET_ARGS ;\n"+
		"# elles sont gardées au prochain enrôlement. guichet %s --help\n"+
		"GUICHET_ARGS=%s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), e.ID, e.Site, e.Role, strconv.Quote(strings.Join(args, " ")))
	if err := writeFileAtomic(envFile, []byte(env), 0o640); err != nil {
		return nil, err
	}
	return append(written, envFile), nil
}

// keptArgs returns the flags of GUICHET_ARGS in an env file that are not
// the connection's.
func keptArgs(env []byte) []string {
	var kept []string
	for _, line := range strings.Split(string(env), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "GUICHET_ARGS=")
		if !ok {
			continue
		}
		if s, err := strconv.Unquote(v); err == nil {
			v = s
		}
		f := strings.Fields(v)
		kept = nil
		for i := 0; i < len(f); i++ {
			name, _, hasValue := strings.Cut(strings.TrimLeft(f[i], "-"), "=")
			if strings.HasPrefix(f[i], "-") && slices.Contains(connFlags, name) {
				if !hasValue {
					i++ // its value
				}
				continue
			}
			kept = append(kept, f[i])
		}
	}
	return kept
}

// writeFileAtomic writes a file whole or not at all, with mode perm, group
// guichet when run as root.
func writeFileAtomic(name string, b []byte, perm os.FileMode) error {
	return atomicfile.Write(name, b, func(f *os.File) error {
		if err := f.Chmod(perm); err != nil {
			return err
		}
		if os.Geteuid() != 0 {
			return nil
		}
		g, err := user.LookupGroup("guichet")
		if err != nil {
			return nil // no such group yet: root's
		}
		gid, err := strconv.Atoi(g.Gid)
		if err != nil {
			return nil
		}
		return f.Chown(0, gid)
	})
}
