package scanner

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestScannerReadsCodesFromASerialLine(t *testing.T) {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer s.Close()
	sc, err := Parse("serial:" + s.Name() + "?baud=9600")
	if err != nil {
		t.Fatal(err)
	}
	sc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	codes := make(chan string, 8)
	go sc.Run(ctx, codes)
	time.Sleep(200 * time.Millisecond) // the port opened
	m.Write([]byte("RDV-1234\r\n" + strings.Repeat("X", 300) + "\r\n\x1b[2J\r\n ANTS-77 \n"))
	var got []string
	for len(got) < 3 {
		select {
		case c := <-codes:
			got = append(got, c)
		case <-time.After(3 * time.Second):
			t.Fatalf("codes read: %q", got)
		}
	}
	// The 300-character line is dropped; the escape sequence loses its ESC.
	if strings.Join(got, "|") != "RDV-1234|[2J|ANTS-77" {
		t.Fatalf("codes %q", got)
	}
}

func TestCleanRefusesWhatIsNotACode(t *testing.T) {
	for in, want := range map[string]string{"RDV-1\r\n": "RDV-1", " ab c \n": "ab c", "a\x00b\x1bc": "abc",
		"\ufeffRDV-1": "RDV-1", "RDV\u202e-1": "RDV-1", "\x00 RDV-1": "RDV-1"} {
		if got, ok := Clean(in); !ok || got != want {
			t.Errorf("Clean(%q) = %q %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "\r\n", strings.Repeat("9", MaxCode+1), "RDV-\xe9", "\u200b\u202e"} {
		if _, ok := Clean(bad); ok {
			t.Errorf("Clean(%q) accepted", bad)
		}
	}
}
