package devices

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func registry(t *testing.T) (*Registry, *store.Store) {
	st, err := store.Open(filepath.Join(t.TempDir(), "g.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, func(c string) bool { return c == "3" }, quiet), st
}

func TestAddAuthenticateDisableRotate(t *testing.T) {
	r, st := registry(t)
	secret, err := r.Add("kiosk-hall", api.RoleKiosk, "", "admin")
	if err != nil || len(secret) < 40 {
		t.Fatalf("add: %q %v", secret, err)
	}
	if _, err := r.Add("kiosk-hall", api.RoleKiosk, "", "admin"); !errors.Is(err, ErrExists) {
		t.Fatalf("second add: %v", err)
	}
	d, err := r.Authenticate("kiosk-hall", secret)
	if err != nil || d.Role != api.RoleKiosk {
		t.Fatalf("authenticate: %+v %v", d, err)
	}
	if _, err := r.Authenticate("kiosk-hall", secret+"x"); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := r.Authenticate("nobody", secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	stored, _ := st.Device("kiosk-hall")
	if strings.Contains(string(stored.SecretHash)+stored.MosquittoHash, secret) {
		t.Fatal("the secret is stored in clear")
	}
	var revoked []string
	r.OnChange(func(id string, rev bool) {
		if rev {
			revoked = append(revoked, id)
		}
	})
	if err := r.SetDisabled("kiosk-hall", true, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate("kiosk-hall", secret); !errors.Is(err, ErrDeviceOff) {
		t.Fatalf("disabled device: %v", err)
	}
	r.SetDisabled("kiosk-hall", false, "admin")
	fresh, err := r.Rotate("kiosk-hall", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate("kiosk-hall", secret); err == nil {
		t.Fatal("old secret still works after rotation")
	}
	if _, err := r.Authenticate("kiosk-hall", fresh); err != nil {
		t.Fatal(err)
	}
	if strings.Join(revoked, ",") != "kiosk-hall,kiosk-hall" {
		t.Fatalf("revoked %v, want on disable and on rotation", revoked)
	}
	evs, _ := st.Events(context.Background(), 0, 10)
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type)+":"+ev.Device)
	}
	if strings.Join(types, " ") != "device.added:kiosk-hall device.disabled:kiosk-hall device.enabled:kiosk-hall device.secret_rotated:kiosk-hall" {
		t.Fatalf("audit trail %v", types)
	}
}

func TestAddRefusesBadDevices(t *testing.T) {
	r, _ := registry(t)
	for _, c := range []struct{ id, role, counter string }{
		{"Kiosk", api.RoleKiosk, ""},
		{"a/b", api.RoleKiosk, ""},
		{"k", "printer", ""},
		{"c", api.RoleCounter, ""},
		{"c", api.RoleCounter, "99"},
		{"k", api.RoleKiosk, "3"},
		{HubUser, api.RoleIntegration, ""}, // the hub's own user on Mosquitto
	} {
		if _, err := r.Add(c.id, c.role, c.counter, "admin"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add(%q, %q, %q) = %v, want invalid", c.id, c.role, c.counter, err)
		}
	}
}

func TestWatchRevokesDevicesChangedByAnotherProcess(t *testing.T) {
	r, st := registry(t)
	r.Add("k1", api.RoleKiosk, "", "admin")
	revoked := make(chan string, 1)
	r.OnChange(func(id string, rev bool) {
		if rev {
			revoked <- id
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Watch(ctx, 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	other := New(st, func(string) bool { return true }, quiet) // as the CLI would
	time.Sleep(5 * time.Millisecond)
	if err := other.SetDisabled("k1", true, "cli"); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-revoked:
		if id != "k1" {
			t.Fatalf("revoked %s", id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a device disabled elsewhere was not revoked")
	}
	// Added and disabled between two polls: first seen disabled, still revoked.
	other.Add("k2", api.RoleKiosk, "", "cli")
	other.SetDisabled("k2", true, "cli")
	select {
	case id := <-revoked:
		if id != "k2" {
			t.Fatalf("revoked %s", id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a device added then disabled between polls was not revoked")
	}
}

func TestACL(t *testing.T) {
	tp := api.Topics{Site: "s"}
	kiosk := &Device{ID: "k1", Role: api.RoleKiosk}
	counter := &Device{ID: "c3", Role: api.RoleCounter, Counter: "3"}
	display := &Device{ID: "d1", Role: api.RoleDisplay}
	integ := &Device{ID: "nodered", Role: api.RoleIntegration}
	cases := []struct {
		d     *Device
		write bool
		topic string
		ok    bool
	}{
		{kiosk, true, tp.Cmd("k1"), true},
		{kiosk, true, tp.Cmd("c3"), false},
		{kiosk, true, tp.DeviceState("k1"), true},
		{kiosk, true, tp.DeviceState("c3"), false},
		{kiosk, true, "guichet/v1/s/device/k1/photo", false}, // one retained message per device: its state
		{kiosk, true, tp.DeviceState("k1") + "/x", false},
		{kiosk, true, "guichet/v1/s/device/k1/state/../../c3/state", false},
		{kiosk, true, "$SYS/broker/version", false},
		{kiosk, true, tp.Board(), false},
		{kiosk, true, "guichet/v1/other/cmd/k1", false},
		{kiosk, false, tp.Reply("k1"), true},
		{kiosk, false, tp.Reply("c3"), false},
		{kiosk, false, tp.Lease("k1"), true},
		{kiosk, false, tp.Lease("k2"), false},
		{kiosk, false, tp.Board(), true},
		{kiosk, false, tp.Counter("3"), false},
		{kiosk, false, "guichet/v1/s/#", false},
		{kiosk, false, tp.EventsFilter(), false},
		{counter, false, tp.Counter("3"), true},
		{counter, false, tp.Counter("4"), false},
		{counter, false, tp.Lease("c3"), false},
		{display, false, tp.Queue(), true},
		{display, false, tp.Reply("k1"), false},
		{integ, false, tp.EventsFilter(), true},
		{integ, false, tp.Event("ticket.called"), true},
		{integ, false, tp.DeviceStateFilter(), true},
		{integ, false, tp.DeviceState("k1"), true},
		{integ, false, tp.Reply("k1"), false},
	}
	for _, c := range cases {
		got := CanRead(tp, c.d, c.topic)
		if c.write {
			got = CanPublish(tp, c.d, c.topic)
		}
		if got != c.ok {
			t.Errorf("%s (%s) write=%v %s: %v, want %v", c.d.ID, c.d.Role, c.write, c.topic, got, c.ok)
		}
	}
	if !CanDo(kiosk, api.OpIssueTicket) || CanDo(kiosk, api.OpCallNext) || !CanDo(counter, api.OpCallNext) || CanDo(display, api.OpIssueTicket) {
		t.Fatal("ops per role")
	}
}

func TestMosquittoHashMatchesMosquittoPasswd(t *testing.T) {
	// Written by mosquitto_passwd 2.0.11 for the password "secret123".
	const line = "$7$101$SHczA+VdJVcqxr6e$GAipWrzBbaeyEDWzuhdXitVS+ovMYq9PMj6Om19bcMI/DsR6AEnnchlll7ncBxQj2L4fCopcrFzdHm/P2CHX+A=="
	salt, _ := base64.StdEncoding.DecodeString(strings.Split(line, "$")[3])
	if got := mosquittoHash("secret123", salt, 101); got != line {
		t.Fatalf("got  %s\nwant %s", got, line)
	}
	if a, b := MosquittoHash("x"), MosquittoHash("x"); a == b {
		t.Fatal("same salt twice")
	}
}

func TestClientIDNamesOneDevice(t *testing.T) {
	for id, want := range map[string]string{
		"k1": "k1", "k1@watch": "k1", "desk-3": "desk-3", "desk-3@a.b_c-1": "desk-3",
		"": "", "@x": "", "k1@": "", "k1@a/b": "", "k1@x@y": "", "K1": "", "k1@" + strings.Repeat("x", 33): "",
		"k1 @x": "", "k1@é": "",
	} {
		got, ok := ClientDevice(id)
		if got != want || ok != (want != "") {
			t.Errorf("ClientDevice(%q) = %q %v, want %q", id, got, ok, want)
		}
	}
	// The rule that let device "desk" take device "desk-3"'s session.
	if d, _ := ClientDevice("desk-3"); d == "desk" {
		t.Fatal("desk-3 is desk's")
	}
}

func TestWillIsTheDevicesOwnStateSayingOffline(t *testing.T) {
	tp := api.Topics{Site: "s"}
	k := &Device{ID: "k1", Role: api.RoleKiosk}
	for _, c := range []struct {
		topic, payload string
		want           error
	}{
		{tp.DeviceState("k1"), `{"online":false,"role":"kiosk","version":"1.2"}`, nil},
		{tp.DeviceState("k1"), `{"online":true}`, ErrWillOnline},
		{tp.DeviceState("k1"), `offline`, ErrNotAState},
		{tp.DeviceState("k1"), `null`, ErrNotAState},
		{tp.DeviceState("k1"), ``, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":false,"extra":{"x":"` + strings.Repeat("x", MaxState) + `"}}`, ErrTooLarge},
		{tp.DeviceState("k2"), `{"online":false}`, ErrWillNotMine},
		{tp.Board(), `{"calls":[]}`, ErrWillNotMine},
		{tp.Cmd("k1"), `{"id":"x","op":"issue_ticket"}`, ErrWillNotMine},
		{"$SYS/x", `{"online":false}`, ErrWillNotMine},
	} {
		if err := CheckWill(tp, k, c.topic, []byte(c.payload)); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("will on %s %.40q: %v, want %v", c.topic, c.payload, err, c.want)
		}
	}
}

func TestPublishedStateIsBounded(t *testing.T) {
	tp := api.Topics{Site: "s"}
	k := &Device{ID: "k1", Role: api.RoleKiosk}
	for _, c := range []struct {
		topic, payload string
		want           error
	}{
		{tp.DeviceState("k1"), `{"online":true,"printer":{"ok":true}}`, nil},
		{tp.DeviceState("k1"), ``, nil}, // clears its own retained state
		{tp.DeviceState("k1"), `garbage`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"health":{"booted_at":"2026-12-02T09:00:00+01:00","temp_c":61.2,"disk_free_mb":9000,"wear_pct":30}}`, nil},
		{tp.DeviceState("k1"), `{"online":true,"health":{"booted_at":"9999-12-31T23:59:59-14:00"}}`, ErrNotAState}, // year 10000 in UTC: no view could encode it
		{tp.DeviceState("k1"), `{"online":true,"health":{"temp_c":1e308}}`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"since":"9999-12-31T23:59:59-14:00"}`, ErrNotAState}, // the device's clock: year 10000 once in UTC
		{tp.DeviceState("k1"), `{"online":true,"health":{"disk_free_mb":-1}}`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"health":{"wear_pct":1000}}`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"health":{"update":{"state":"rolled_back","version":"v1.2.0","reason":"unhealthy"}}}`, nil},
		{tp.DeviceState("k1"), `{"online":true,"health":{"update":{"state":"<b>hacked</b>"}}}`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"health":{"update":{"state":"failed","version":"v1.2.0 <script>"}}}`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"health":{"update":{"state":"failed","reason":"` + strings.Repeat("a", 33) + `"}}}`, ErrNotAState},
		{tp.DeviceState("k1"), `{"online":true,"extra":{"x":"` + strings.Repeat("x", MaxState) + `"}}`, ErrTooLarge},
		{tp.Cmd("k1"), strings.Repeat("x", MaxPayload+1), ErrTooLarge},
		{"guichet/v1/s/device/k1/photo", `x`, ErrNotYours},
	} {
		if err := CheckPublish(tp, k, c.topic, []byte(c.payload)); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("publish on %s %.40q: %v, want %v", c.topic, c.payload, err, c.want)
		}
	}
}

func TestMosquittoFilesNeverGiveTheHubsNameToADevice(t *testing.T) {
	dir := t.TempDir()
	tp := api.Topics{Site: "s"}
	devs := []*Device{{ID: HubUser, Role: api.RoleIntegration, MosquittoHash: "$7$101$x$y"}, {ID: "k1", Role: api.RoleKiosk, MosquittoHash: "$7$101$a$b"}}
	if err := MosquittoFiles(dir, tp, devs, "hub-password-0123456789"); err != nil {
		t.Fatal(err)
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "passwd"))
	acl, _ := os.ReadFile(filepath.Join(dir, "acl"))
	if n := strings.Count(string(pw), HubUser+":"); n != 1 || strings.Contains(string(pw), "$7$101$x$y") {
		t.Fatalf("passwd:\n%s", pw)
	}
	if n := strings.Count(string(acl), "user "+HubUser+"\n"); n != 1 {
		t.Fatalf("acl:\n%s", acl)
	}
	for _, want := range []string{"user k1\ntopic write guichet/v1/s/cmd/k1\ntopic write guichet/v1/s/device/k1/state\n"} {
		if !strings.Contains(string(acl), want) {
			t.Fatalf("acl has no %q:\n%s", want, acl)
		}
	}
}

// A device disabled elsewhere within the same millisecond as its last
// change seen (its time of change unmoved) is still revoked: the poll
// compares what a change revokes, not only the time.
func TestWatchRevokesAChangeWithinTheSameMillisecond(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "g.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := New(st, func(string) bool { return true }, quiet)
	revoked := make(chan string, 1)
	r.OnChange(func(id string, rev bool) {
		if rev {
			revoked <- id
		}
	})
	r.Add("k3", api.RoleKiosk, "", "admin")
	r.poll(false) // seen enabled
	d, _ := st.Device("k3")
	other := New(st, func(string) bool { return true }, quiet)
	if err := other.SetDisabled("k3", true, "cli"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE devices SET updated_at = ? WHERE id = 'k3'`, d.UpdatedAt.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	r.poll(true)
	select {
	case id := <-revoked:
		if id != "k3" {
			t.Fatalf("revoked %s", id)
		}
	default:
		t.Fatal("a device disabled within the same millisecond was not revoked")
	}
}
