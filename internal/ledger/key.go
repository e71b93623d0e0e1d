package ledger

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
)

// KeyFileName is the state directory's ledger key: 256 random bits, as
// text, that name the ledgers. Without it a ledger's name would be a plain
// hash of the identity, and a short credential would be recovered from the
// name by trying every value.
const KeyFileName = "bbimport-ledger.key"

// keyRules: the key is read by nobody else, and is one line.
var keyRules = safefile.Rules{Private: true, MaxSize: 256}

// stateKey returns the key of dir, creating it when there is none yet. Two
// processes creating it at once agree on one (safefile.Publish).
func stateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFileName)
	for range 2 {
		data, err := safefile.ReadFile(path, keyRules)
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := safefile.Publish(path, []byte(rand.Text()+rand.Text()+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("ledger: creating the key %s: %w", path, err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ledger key: %w", err)
		}
		key := strings.TrimSpace(string(data))
		if len(key) < 32 || strings.Trim(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			return nil, fmt.Errorf("ledger key %s: not a key bbimport wrote (delete it: a new one is made)", path)
		}
		return []byte(key), nil
	}
	return nil, fmt.Errorf("ledger key %s: created, then gone", path)
}

// name returns the file name of the ledger of one identity for api
// ("bitbucket", "snyk") counting in windows of the given length: a keyed
// hash of the identity, so the name tells nobody without the key the
// consumer or the token, and gives nothing to try guesses against. The
// window is part of it: counts kept for another window do not fit ours, and
// two processes that count differently (another version, another setting)
// must not take turns replacing each other's file, each then seeing an
// almost empty budget.
func name(key []byte, api, identity string, window time.Duration) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(api + "\x00" + identity + "\x00" + strconv.FormatInt(window.Milliseconds(), 10)))
	return filePrefix + api + "-" + hex.EncodeToString(m.Sum(nil)[:16]) + fileSuffix
}

const (
	filePrefix = "bbimport-"
	fileSuffix = ".ledger"
)
