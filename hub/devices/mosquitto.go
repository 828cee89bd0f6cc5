package devices

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"guichet/hub/api"
)

// MosquittoHash returns secret in Mosquitto 2's password-file format,
// PBKDF2-SHA512 ("$7$iterations$salt$hash"), as mosquitto_passwd writes it.
func MosquittoHash(secret string) string {
	salt := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	return mosquittoHash(secret, salt, 101)
}

func mosquittoHash(secret string, salt []byte, iter int) string {
	key, err := pbkdf2.Key(sha512.New, secret, salt, iter, 64)
	if err != nil {
		panic(err)
	}
	enc := base64.StdEncoding
	return fmt.Sprintf("$7$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// HubUser is the MQTT user the hub connects as to an external broker.
const HubUser = "guichet-hub"

// MosquittoFiles writes, in dir, the password file (passwd) and the ACL
// file (acl) that give Mosquitto the same rules as the embedded broker:
// every enabled device with its own credentials and topics, and the hub's
// user with hubPassword. Files are replaced atomically; send Mosquitto a
// SIGHUP to reload them.
func MosquittoFiles(dir string, t api.Topics, devs []*Device, hubPassword string) error {
	var pw, acl strings.Builder
	const head = "# Written by guichet from its device registry. Do not edit: changes are overwritten.\n"
	pw.WriteString(head)
	acl.WriteString(head)
	fmt.Fprintf(&pw, "%s:%s\n", HubUser, MosquittoHash(hubPassword))
	fmt.Fprintf(&acl, "\nuser %s\ntopic readwrite %s/%s/#\n", HubUser, api.Root, t.Site)
	for _, d := range devs {
		if d.Disabled || d.ID == HubUser { // Add refuses the hub's name; a registry from before is not trusted with it
			continue
		}
		fmt.Fprintf(&pw, "%s:%s\n", d.ID, d.MosquittoHash)
		fmt.Fprintf(&acl, "\n# %s, %s %s\nuser %s\n", d.ID, d.Role, d.Counter, d.ID)
		for _, tp := range WriteTopics(t, d) {
			fmt.Fprintf(&acl, "topic write %s\n", tp)
		}
		for _, tp := range ReadTopics(t, d) {
			fmt.Fprintf(&acl, "topic read %s\n", tp)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for name, content := range map[string]string{"passwd": pw.String(), "acl": acl.String()} {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o640); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// MosquittoConf is a mosquitto.conf fragment using the files in dir, with
// the limits the embedded broker applies too: the client id is the
// username (Mosquitto cannot tie "{id}@…" client ids to a username, and a
// device could otherwise take over another's session), payload and packet
// sizes, and how many messages a session may hold.
func MosquittoConf(dir, listen string) string {
	return fmt.Sprintf(`# Guichet: devices authenticate with their id and secret; ACL per device.
listener %s
# Without it a reply waits up to 40 ms for a delayed TCP ACK (Nagle).
set_tcp_nodelay true
allow_anonymous false
password_file %s
acl_file %s
# A client id is its username: no device can take over another's session.
use_username_as_clientid true
# Payloads over %d bytes are dropped; larger packets cut the connection.
message_size_limit %d
max_packet_size %d
# A session keeps at most %d messages it has not acknowledged.
max_queued_messages %d
# Sessions and their queues outlive a restart; saved every minute.
persistence true
autosave_interval 60
`, listen, filepath.Join(dir, "passwd"), filepath.Join(dir, "acl"), MaxPayload, MaxPayload, MaxPacket, MaxQueued, MaxQueued)
}
