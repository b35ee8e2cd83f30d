// Package console serves Stepwell's web console: a single-page application
// made of plain HTML, CSS and JavaScript modules embedded in the binary
// (static/, no build step) plus one vendored library, @dagrejs/dagre, for
// the graph layout (static/vendor, checked against VENDOR.txt by the
// tests and by vendor.sh).
//
// The console is a client like any other: the page calls the public Step
// Functions API (POST / with X-Amz-Target AWSStepFunctions.<Action>, the
// AWS JSON 1.0 protocol), so it needs no endpoint of its own and shows only
// what an SDK could read. Handler serves the files and, for the console's
// own addresses (/, /state-machines/<arn>, /executions/<arn>, ...), the
// page that routes them in the browser; any other path is not found.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:static
var files embed.FS

// Routes are the first segments of the console's addresses; a GET of
// one of them (or of /) serves the page, which routes in the browser.
var Routes = []string{"state-machines", "executions", "editor", "activities", "map-runs"}

// asset is one embedded file ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the console on GET and HEAD: /assets/<file> are the
// embedded files, / and the console's routes (Routes) the page; anything
// else answers 404. The page and the assets are revalidated on every
// load (ETag), so an upgraded binary is picked up at once.
func Handler() http.Handler {
	h := &handler{assets: map[string]asset{}}
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".LICENSE", ".txt", "":
			ctype = "text/plain; charset=utf-8"
		}
		if ctype == "" {
			ctype = http.DetectContentType(b)
		}
		h.assets[p] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return h
}

type handler struct {
	assets map[string]asset
}

// contentSecurityPolicy lets the page load only its own files and talk
// only to its own origin (the API), and never be framed.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := h.route(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if name == "index.html" {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// route maps a request path to the embedded file that answers it.
func (h *handler) route(p string) (string, bool) {
	if p == "/" {
		return "index.html", true
	}
	if rest, ok := strings.CutPrefix(p, "/assets/"); ok {
		if rest == "" || rest == "index.html" || strings.Contains(rest, "..") {
			return "", false
		}
		return rest, true
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	for _, r := range Routes {
		if first == r {
			return "index.html", true
		}
	}
	return "", false
}
