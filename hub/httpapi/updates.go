package httpapi

import (
	"net/http"
	"os"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/internal/release"
)

// newestUpdate answers the newest update bundle published for an
// architecture: its manifest and signature, and where its binary is.
func (s *Server) newestUpdate(w http.ResponseWriter, r *http.Request) {
	arch := r.PathValue("arch")
	if s.updates == nil {
		writeError(w, http.StatusNotFound, api.CodeNoUpdate, "this hub serves no updates")
		return
	}
	b, ok, err := s.updates.Newest(arch)
	if err != nil {
		s.log.Error("read the update shelf", "err", err)
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, "the hub cannot read its updates now")
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeNoUpdate, "no update published for this architecture")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, api.UpdateManifest{Version: b.Version, Arch: b.Arch, SHA256: b.SHA256, Size: b.Size,
		MinVersion: b.MinVersion, Signature: string(b.Signature), Download: "/api/v1/updates/" + b.Arch + "/" + b.Version})
}

// updateBinary serves a published bundle's binary (ranges allowed: a
// device on a poor link may resume).
func (s *Server) updateBinary(w http.ResponseWriter, r *http.Request) {
	arch, version := r.PathValue("arch"), r.PathValue("version")
	if s.updates == nil || release.ValidVersion(version) != nil {
		writeError(w, http.StatusNotFound, api.CodeNoUpdate, "no such update")
		return
	}
	b, ok, err := s.updates.Get(arch, version)
	if err != nil || !ok {
		writeError(w, http.StatusNotFound, api.CodeNoUpdate, "no such update")
		return
	}
	f, err := os.Open(b.Binary)
	if err != nil {
		s.log.Error("open an update's binary", "arch", arch, "version", version, "err", err)
		writeError(w, http.StatusNotFound, api.CodeNoUpdate, "no such update")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, "the hub cannot read this update now")
		return
	}
	who := "admin"
	if p := auth.From(r.Context()); p != nil {
		who = p.Account
	}
	s.log.Info("update downloaded", "by", who, "arch", arch, "version", version)
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, release.BinaryName, st.ModTime(), f)
}
