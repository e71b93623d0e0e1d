package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionInfo: a make build says its tag; a `go install …@v1.2.3`
// build (no ldflags) says the module version Go recorded; a build from a
// checkout says its commit; never "dev" when Go knows better.
func TestVersionInfo(t *testing.T) {
	t.Parallel()
	info := func(main string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/bbimport/bbimport", Version: main}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, tt := range []struct {
		name, stamped string
		read          func() (*debug.BuildInfo, bool)
		want          string
	}{
		{"make build", "v1.4.0", info("v9.9.9"), "v1.4.0"},
		{"go install tagged", "dev", info("v1.2.3"), "v1.2.3"},
		{"go install pseudo-version", "dev", info("v0.0.0-20261203093000-abcdef123456"), "v0.0.0-20261203093000-abcdef123456"},
		{"checkout", "dev", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "false"), "dev-0123456789ab"},
		{"dirty checkout", "dev", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "true"), "dev-0123456789ab-dirty"},
		{"nothing known", "dev", info("(devel)"), "dev"},
		{"no build info", "dev", none, "dev"},
	} {
		if got := versionInfo(tt.stamped, tt.read); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// repoFile reads a file of the repository root.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDockerfileMatchesBuild: the container recipe copies the binary from
// where `make build` writes it, into a minimal base that has CA
// certificates. (Building the image needs a registry; this is what can be
// checked without one.)
func TestDockerfileMatchesBuild(t *testing.T) {
	t.Parallel()
	docker, mk := repoFile(t, "Dockerfile"), repoFile(t, "Makefile")
	bin := regexp.MustCompile(`(?m)^BIN :?= (\S+)$`).FindStringSubmatch(mk)
	if bin == nil || !regexp.MustCompile(`(?m)^build:\n\t\$\(STATIC\) -o \$\(BIN\)/bbimport \./cmd/bbimport$`).MatchString(mk) {
		t.Fatal("Makefile: no `BIN := …` or build target writing $(BIN)/bbimport")
	}
	if !strings.Contains(mk, "STATIC := CGO_ENABLED=0 $(GO) build -trimpath") {
		t.Error("Makefile: the build is not static (CGO_ENABLED=0, -trimpath)")
	}
	workdir := regexp.MustCompile(`(?m)^WORKDIR (\S+)$`).FindStringSubmatch(docker)
	if workdir == nil || !regexp.MustCompile(`(?m)^RUN make build\b`).MatchString(docker) {
		t.Fatal("Dockerfile: the build stage has no WORKDIR or does not run make build")
	}
	want := workdir[1] + "/" + bin[1] + "/bbimport"
	copyLine := regexp.MustCompile(`(?m)^COPY --from=build (\S+) (\S+)$`).FindStringSubmatch(docker)
	if copyLine == nil || copyLine[1] != want {
		t.Fatalf("Dockerfile copies %v from the build stage, want %s", copyLine, want)
	}
	if !strings.Contains(docker, `ENTRYPOINT ["`+copyLine[2]+`"]`) {
		t.Errorf("Dockerfile: the entrypoint is not %s", copyLine[2])
	}
	// The image reports its version (issue 23): the Dockerfile stamps the
	// build argument, and make image passes git describe's.
	if !regexp.MustCompile(`(?m)^ARG VERSION=`).MatchString(docker) || !regexp.MustCompile(`(?m)^RUN make build VERSION=\$VERSION$`).MatchString(docker) {
		t.Error("Dockerfile: the binary is not stamped with the VERSION build argument")
	}
	if !regexp.MustCompile(`(?m)^image:\n\tdocker build --build-arg VERSION=\$\(VERSION\) `).MatchString(mk) ||
		!strings.Contains(mk, "VERSION ?= $(shell git describe") {
		t.Error("Makefile: make image does not pass the version of git describe")
	}
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(docker, -1)
	final := froms[len(froms)-1][1]
	switch {
	case strings.HasPrefix(final, "gcr.io/distroless/static"):
	case final == "scratch" && strings.Contains(docker, "ca-certificates.crt"):
	default:
		t.Errorf("Dockerfile: final base %s is neither distroless/static nor scratch with CA certificates", final)
	}
}

// TestMakeDist: the recipe lists the five platforms; building one (the
// host's) gives an archive with the stamped binary and a SHA256SUMS that
// verifies. The other four are cross-compiles of the same recipe.
func TestMakeDist(t *testing.T) {
	t.Parallel()
	mk := repoFile(t, "Makefile")
	for _, p := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"} {
		if !regexp.MustCompile(`(?m)^PLATFORMS \?=.*\b` + p + `\b`).MatchString(mk) {
			t.Errorf("Makefile PLATFORMS lacks %s", p)
		}
	}
	if testing.Short() {
		t.Skip("builds a release binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	if goruntime.GOOS == "windows" {
		t.Skip("the archive check reads tar.gz")
	}
	dist := t.TempDir()
	const v = "v0.0.0-disttest"
	platform := goruntime.GOOS + "/" + goruntime.GOARCH
	cmd := exec.Command("make", "-s", "dist", "PLATFORMS="+platform, "DIST="+dist, "VERSION="+v)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	name := "bbimport_" + v + "_" + goruntime.GOOS + "_" + goruntime.GOARCH + ".tar.gz"
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dist, name))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant\n%s", sums, want)
	}
	bin := filepath.Join(t.TempDir(), "bbimport")
	untar(t, filepath.Join(dist, name), strings.TrimSuffix(name, ".tar.gz")+"/bbimport", bin)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "bbimport version "+v {
		t.Errorf("released binary --version: %q, %v", out, err)
	}
}

// untar extracts one file of a .tar.gz.
func untar(t *testing.T, archive, member, dst string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s has no %s", archive, member)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != member {
			continue
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
}

// TestGoInstallVersion: `go install github.com/bbimport/bbimport/cmd/bbimport@v1.2.3`
// (no ldflags) reports v1.2.3. The tagged module is served from a file://
// proxy made of this tree, its dependencies from the local module cache: no
// network.
func TestGoInstallVersion(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the module in a fresh module cache")
	}
	if goruntime.GOOS == "windows" {
		t.Skip("file:// proxy paths")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root := filepath.Join("..", "..")
	ls := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	out, err := ls.Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	const mod, v = "github.com/bbimport/bbimport", "v1.2.3"
	proxy := t.TempDir()
	dir := filepath.Join(proxy, mod, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(dir, v+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for _, name := range strings.Fields(string(out)) {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree
		}
		w, err := zw.Create(mod + "@" + v + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		v + ".mod":  repoFile(t, "go.mod"),
		v + ".info": `{"Version":"` + v + `","Time":"2026-12-01T00:00:00Z"}`,
		"list":      v + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	gobin := t.TempDir()
	install := exec.Command(goBin, "install", mod+"/cmd/bbimport@"+v)
	install.Env = append(os.Environ(),
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(strings.TrimSpace(string(cache)), "cache", "download"),
		"GOMODCACHE="+t.TempDir(), "GOFLAGS=-trimpath -modcacherw", "GOSUMDB=off", "GOTOOLCHAIN=local", "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	got, err := exec.Command(filepath.Join(gobin, "bbimport"), "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "bbimport version "+v {
		t.Errorf("go-installed bbimport --version: %q, %v", got, err)
	}
}
