package console

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"

	"guichet/hub/queue"
)

// siteCache keeps what the pages know of the site (SiteData, by language)
// for one revision of the engine's site, and names that revision for the
// pages: a page made with one version and told another by its stream takes
// the site again (an admin renamed a service or added a pause reason).
type siteCache struct {
	mu   sync.Mutex
	boot string // this process's: a revision number restarts with the hub
	rev  uint64
	data map[string]SiteData
}

func newSiteCache() *siteCache {
	var b [6]byte
	rand.Read(b[:])
	return &siteCache{boot: hex.EncodeToString(b[:]), data: map[string]SiteData{}}
}

// get returns the site's version and its data in lang; e is read under the
// hub's read lock.
func (c *siteCache) get(e *queue.Engine, lang string) (string, SiteData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev := e.SiteRevision(); rev != c.rev {
		c.rev, c.data = rev, map[string]SiteData{}
	}
	d, ok := c.data[lang]
	if !ok {
		d = siteData(e, lang)
		c.data[lang] = d
	}
	return c.boot + "." + strconv.FormatUint(c.rev, 10), d
}
