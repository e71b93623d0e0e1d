package main

import (
	"archive/tar"
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
