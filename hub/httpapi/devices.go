package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/hub/queue"
)

type deviceRequest struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Counter string `json:"counter"`
}

func (s *Server) deviceView(d *devices.Device) api.Device {
	v := api.Device{ID: d.ID, Role: d.Role, Counter: d.Counter, Disabled: d.Disabled, CreatedAt: d.CreatedAt}
	if s.state != nil {
		if st, ok := s.state(d.ID); ok {
			v.Online, v.State = st.Online, &st
		}
	}
	return v
}

func (s *Server) deviceError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, devices.ErrInvalid):
		writeError(w, http.StatusBadRequest, api.CodeInvalid, err.Error())
	case errors.Is(err, devices.ErrExists):
		writeError(w, http.StatusConflict, api.CodeDeviceExists, err.Error())
	case errors.Is(err, devices.ErrNotFound):
		writeError(w, http.StatusNotFound, api.CodeUnknownDevice, err.Error())
	default:
		s.log.Error("devices", "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "internal error")
	}
}

func (s *Server) addDevice(w http.ResponseWriter, r *http.Request) {
	var req deviceRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case !api.ValidDeviceID(req.ID):
		refuse(w, errDeviceID)
		return
	case !slices.Contains(api.Roles, req.Role):
		refuse(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("role must be one of %v", api.Roles)})
		return
	case !shortText(req.Counter):
		refuse(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("counter must be a counter id of at most %d characters", queue.MaxIDLen)})
		return
	}
	secret, err := s.devices.Add(req.ID, req.Role, req.Counter, "api")
	if err != nil {
		s.deviceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.NewDevice{ID: req.ID, Role: req.Role, Counter: req.Counter, Secret: secret,
		MQTT: api.MQTTAccess{Username: req.ID, Topics: api.Root + "/" + s.site + "/"}})
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	devs, err := s.devices.List()
	if err != nil {
		s.deviceError(w, err)
		return
	}
	out := []api.Device{}
	for _, d := range devs {
		out = append(out, s.deviceView(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": out})
}

var errDeviceID = &api.Error{Code: api.CodeInvalid, Message: "a device id is 1 to 64 lower-case letters, digits, '-', '_' or '.'"}

// deviceID reads the device id of the path.
func deviceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !api.ValidDeviceID(id) {
		refuse(w, errDeviceID)
		return "", false
	}
	return id, true
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) {
	id, ok := deviceID(w, r)
	if !ok {
		return
	}
	d, err := s.devices.Get(id)
	if err != nil {
		s.deviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.deviceView(d))
}

func (s *Server) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := deviceID(w, r)
		if !ok {
			return
		}
		if err := s.devices.SetDisabled(id, disabled, "api"); err != nil {
			s.deviceError(w, err)
			return
		}
		s.getDevice(w, r)
	}
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	id, ok := deviceID(w, r)
	if !ok {
		return
	}
	secret, err := s.devices.Rotate(id, "api")
	if err != nil {
		s.deviceError(w, err)
		return
	}
	d, _ := s.devices.Get(id)
	writeJSON(w, http.StatusOK, api.NewDevice{ID: id, Role: d.Role, Counter: d.Counter, Secret: secret,
		MQTT: api.MQTTAccess{Username: id, Topics: api.Root + "/" + s.site + "/"}})
}
