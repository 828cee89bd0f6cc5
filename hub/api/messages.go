package api

import (
	"strings"
	"time"
)

// Roles a device may have.
const (
	RoleKiosk       = "kiosk"       // issues tickets
	RoleDisplay     = "display"     // shows the board
	RoleCounter     = "counter"     // a counter terminal, acts for its counter
	RoleIntegration = "integration" // Node-RED, the CRM bridge: reads events, issues tickets
)

// Roles lists the valid roles.
var Roles = []string{RoleKiosk, RoleDisplay, RoleCounter, RoleIntegration}

// DeviceState is what a device publishes, retained, on device/{id}/state.
// Its last will is {"online": false}.
type DeviceState struct {
	Online  bool           `json:"online"`
	Role    string         `json:"role,omitempty"`
	Version string         `json:"version,omitempty"`
	Since   *time.Time     `json:"since,omitempty"`
	Printer *PrinterHealth `json:"printer,omitempty"`
	Outbox  int            `json:"outbox,omitempty"` // commands not yet answered
	Health  *DeviceHealth  `json:"health,omitempty"`
	Extra   map[string]any `json:"extra,omitempty"`
}

// DeviceHealth is what a device says of its board (firmware/health); a
// field the board cannot tell is left out. The hub bounds every field
// (devices.ParseState): the device's clock and files are its own.
type DeviceHealth struct {
	BootedAt   *time.Time    `json:"booted_at,omitempty"`    // when the board started, by its clock: its uptime
	TempC      *float64      `json:"temp_c,omitempty"`       // the CPU's temperature, °C
	DiskFreeMB *int64        `json:"disk_free_mb,omitempty"` // free space where it keeps its data, MiB
	WearPct    *int          `json:"wear_pct,omitempty"`     // life used of its eMMC or SD card, where the card says (110: past it)
	Update     *DeviceUpdate `json:"update,omitempty"`       // its updates' state
}

// PrinterHealth is a kiosk printer's state.
type PrinterHealth struct {
	OK        bool `json:"ok"`
	PaperLow  bool `json:"paper_low,omitempty"`
	PaperOut  bool `json:"paper_out,omitempty"`
	CoverOpen bool `json:"cover_open,omitempty"`
	Offline   bool `json:"offline,omitempty"`
}

// SiteConfig is the retained config topic: what devices need to know.
type SiteConfig struct {
	Site      SiteInfo      `json:"site"`
	Services  []Service     `json:"services"`
	Counters  []CounterInfo `json:"counters"`
	Languages []string      `json:"languages"`
}

// SiteInfo names the site.
type SiteInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Timezone  string `json:"timezone"`
	PublicURL string `json:"public_url,omitempty"`
	Info      Names  `json:"info,omitempty"`
	// Message is the supervisor's message on the waiting-room screens.
	Message Names `json:"message,omitempty"`
	// Clock is set only when the hub runs a simulated day (guichet demo
	// --simulate): screens show its time of day, not the real one.
	Clock *SimClock `json:"clock,omitempty"`
}

// SimClock is a simulated day's clock: at the real instant Real it was Sim
// in the simulated day, which runs Speed times faster than real time.
type SimClock struct {
	Real  time.Time `json:"real"`
	Sim   time.Time `json:"sim"`
	Speed float64   `json:"speed"`
}

// CounterInfo is a counter's static description.
type CounterInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Channels []string `json:"channels"`
}

// Leases is the retained lease/{device} topic: the number blocks a kiosk may
// print from when the hub does not answer.
type Leases struct {
	Device string  `json:"device"`
	Blocks []Block `json:"blocks"`
}

// Block is one leased block: numbers From to To of a service on a day.
type Block struct {
	Service string `json:"service"`
	Day     string `json:"day"`
	From    int    `json:"from"`
	To      int    `json:"to"`
	Used    []int  `json:"used,omitempty"`
}

// Device is a registered device as the API shows it (never its secret).
type Device struct {
	ID        string       `json:"id"`
	Role      string       `json:"role"`
	Counter   string       `json:"counter,omitempty"`
	Disabled  bool         `json:"disabled"`
	CreatedAt time.Time    `json:"created_at"`
	Online    bool         `json:"online"`
	State     *DeviceState `json:"state,omitempty"`
}

// NewDevice is the answer to a device's registration: its secret, shown once.
type NewDevice struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Counter string `json:"counter,omitempty"`
	Secret  string `json:"secret"`
	// MQTT says how the device connects: username is the id, password the secret.
	MQTT MQTTAccess `json:"mqtt"`
}

// Enrollment is the answer to a device's one-time enrollment code: what
// it needs to join the hub, with its new secret (shown once).
type Enrollment struct {
	ID       string     `json:"id"`
	Role     string     `json:"role"`
	Counter  string     `json:"counter,omitempty"`
	Site     string     `json:"site"`
	Secret   string     `json:"secret"`
	MQTT     MQTTAccess `json:"mqtt"`
	MQTTURLs []string   `json:"mqtt_urls"`        // tcp://host:1883, ssl://host:8883
	CAPEM    string     `json:"ca_pem,omitempty"` // the ssl:// broker's CA certificate, PEM
	// UpdateKey is the public key (minisign's format) the device checks
	// the hub's update bundles with; empty when the hub serves none.
	UpdateKey string `json:"update_key,omitempty"`
}

// UpdateManifest is the newest update bundle the hub serves for an
// architecture (GET /api/v1/updates/{arch}). Its fields repeat the
// signature's trusted comment to be read without parsing it; a device
// decides on the signature's, once verified, never on these.
type UpdateManifest struct {
	Version    string `json:"version"`
	Arch       string `json:"arch"`
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	MinVersion string `json:"min_version,omitempty"`
	Signature  string `json:"signature"` // the .minisig file
	Download   string `json:"download"`  // the binary's path on the hub
}

// The states of a device's updates (firmware/update), as it reports them.
const (
	UpdateIdle        = "idle"        // running its newest version; nothing under way
	UpdateDownloading = "downloading" // fetching and verifying a bundle
	UpdateTrial       = "trial"       // a new version runs, not yet healthy
	UpdateRolledBack  = "rolled_back" // the last new version failed and was undone
	UpdateFailed      = "failed"      // the last bundle was refused or could not be fetched
)

// UpdateStates are the states of a device's updates (firmware/update).
var UpdateStates = []string{UpdateIdle, UpdateDownloading, UpdateTrial, UpdateRolledBack, UpdateFailed}

// DeviceUpdate is a device's update state (firmware/update): one of
// UpdateStates, the version it concerns, and a reason code with failed and
// rolled_back.
type DeviceUpdate struct {
	State   string `json:"state"`
	Version string `json:"version,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// MQTTAccess tells a new device where and how to connect.
type MQTTAccess struct {
	Username string `json:"username"`
	Topics   string `json:"topics"` // the topic root of the site
}

// ShortCounterName is what screens and voices say of a counter: its name
// without the description after a dash ("Guichet 7 — Titres": "Guichet 7").
func ShortCounterName(name string) string {
	for _, sep := range []string{" — ", " – ", " - "} {
		name, _, _ = strings.Cut(name, sep)
	}
	return strings.TrimSpace(name)
}
