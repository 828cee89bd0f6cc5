package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The demo's banner prints sample accounts — an agent per seated counter,
// a supervisor, an admin — and a new user signs in with them at once.
func TestDemoPrintsSampleAccountsThatSignIn(t *testing.T) {
	cmd := exec.Command(binary, "demo", "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Dir = t.TempDir()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	banner := make(chan string, 1)
	go func() {
		var sb strings.Builder
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			sb.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Ctrl-C") {
				banner <- sb.String()
			}
		}
	}()
	var b string
	select {
	case b = <-banner:
	case <-time.After(30 * time.Second):
		t.Fatal("no banner")
	}
	m := regexp.MustCompile(`Comptes de démonstration .* connexion : (http://\S+)/login`).FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("no sample accounts in the banner:\n%s", b)
	}
	accts := regexp.MustCompile(`(?m)^  (\S+)\s+(agent \(.*\)|superviseur|administrateur)\s+(\S+)$`).FindAllStringSubmatch(b, -1)
	roles := map[string]int{}
	for _, a := range accts {
		roles[strings.Fields(a[2])[0]]++
	}
	if roles["agent"] < 2 || roles["superviseur"] != 1 || roles["administrateur"] != 1 {
		t.Fatalf("sample accounts %v in:\n%s", roles, b)
	}
	for _, a := range []([]string){accts[0], accts[len(accts)-1]} {
		if st, to := signIn(t, m[1], a[1], a[3]); st != 303 || to != "/" {
			t.Errorf("%s signs in with the printed password: %d → %q", a[1], st, to)
		}
	}
}
