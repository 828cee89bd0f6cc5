package stats

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"guichet/hub/api"
)

func serve(t *testing.T, p *Projection) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(p.Handlers().Mux())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestTheAPIAnswersTheReportAsJSON(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	srv := serve(t, h.projection())
	res, b := get(t, srv.URL+"/api/v1/stats?from="+day+"&to="+day+"&service=E")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	var r JSONReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Total.Tickets != 2 || r.Total.Served != 3 || r.Total.Wait.Mean != 690 || len(r.Charts) != 3 {
		t.Errorf("E: %+v, wait %+v, %d charts", r.Total.Counts, r.Total.Wait, len(r.Charts))
	}
	if r.Charts[0].Title != "Tickets par heure" || len(r.Charts[0].Rows) == 0 {
		t.Errorf("hours chart: %+v", r.Charts[0])
	}
	// Today by default (the harness's clock says 2026-12-01): nothing then.
	if _, b := get(t, srv.URL+"/api/v1/stats?lang=en"); !strings.Contains(string(b), `"from":"2026-12-01","to":"2026-12-01"`) ||
		!strings.Contains(string(b), `"title":"Tickets per hour"`) {
		t.Errorf("default: %.300s", b)
	}
}

func TestABadQueryIsRefusedWithItsReason(t *testing.T) {
	h := newHarness(t)
	srv := serve(t, h.projection())
	for query, why := range map[string]string{
		"from=2026-01-01&to=2027-02-05":   "401 days",
		"from=2026-02-01&to=2026-01-31":   "before",
		"from=2026-13-01":                 "not a date",
		"from=01/11/2026":                 "not a date",
		"to=2026-11-31":                   "not a date",
		"channel=fax":                     "neither visit nor phone",
		"lang=de":                         "neither fr nor en",
		"kind=all":                        "neither summary nor detail",
		"from=2026-11-01&from=2026-11-02": "given 2 times",
		"citizen=x":                       `unknown parameter "citizen"`,
	} {
		for _, path := range []string{"/api/v1/stats", "/api/v1/stats.csv", "/supervision/stats/hours.svg"} {
			res, b := get(t, srv.URL+path+"?"+query)
			var e api.ErrorBody
			json.Unmarshal(b, &e)
			if res.StatusCode != 400 || e.Error.Code != api.CodeInvalid || !strings.Contains(e.Error.Message, why) {
				t.Errorf("%s?%s: %d %s", path, query, res.StatusCode, b)
			}
		}
	}
	// 400 days is the most a report covers.
	if res, b := get(t, srv.URL+"/api/v1/stats?from=2026-01-01&to=2027-02-04"); res.StatusCode != 200 {
		t.Errorf("400 days: %d %s", res.StatusCode, b)
	}
	if res, _ := get(t, srv.URL+"/supervision/stats/pie.svg"); res.StatusCode != 404 {
		t.Errorf("an unknown chart: %d", res.StatusCode)
	}
}

func TestTheCSVIsDownloadedAsAFile(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	srv := serve(t, h.projection())
	res, b := get(t, srv.URL+"/api/v1/stats.csv?from="+day+"&kind=detail")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="statistiques-detail-2026-11-05.csv"` {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	if recs := readCSV(t, b, FormatFor("fr")); len(recs) != 10 || recs[0][0] != "Date" {
		t.Errorf("%d rows: %q", len(recs), recs[0])
	}
}

func TestChartsAreSVGWithTitleAndDescription(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	srv := serve(t, h.projection())
	for _, name := range ChartNames {
		res, b := get(t, srv.URL+"/supervision/stats/"+name+".svg?from="+day)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml; charset=utf-8" {
			t.Fatalf("%s: %d %s", name, res.StatusCode, b)
		}
		var doc struct {
			XMLName xml.Name
			Role    string `xml:"role,attr"`
			Title   string `xml:"title"`
			Desc    string `xml:"desc"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s is not XML: %v", name, err)
		}
		if doc.XMLName.Local != "svg" || doc.Role != "img" || doc.Title == "" || doc.Desc == "" {
			t.Errorf("%s: %+v", name, doc)
		}
		if strings.Contains(string(b), "<script") || strings.Contains(string(b), "http://") && !strings.Contains(string(b), `xmlns="http://www.w3.org/2000/svg"`) {
			t.Errorf("%s fetches or runs something", name)
		}
	}
	_, b := get(t, srv.URL+"/supervision/stats/waits.svg?from="+day+"&service=E")
	if !strings.Contains(string(b), "objectif 15 min") || !strings.Contains(string(b), "médiane 3 min, 90e centile 20 min") {
		t.Errorf("E's waits: %s", b)
	}
}
