package main

import (
	"errors"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"io"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

// shardEnv is the variable behind --shard, for CI systems that give each
// parallel job its part as an environment variable more easily than as an
// argument.
const shardEnv = "BBIMPORT_SHARD"

// maxShards: each part is a CI job with its own consumer and token, so a
// number of parts above this is a typo, not an estate.
const maxShards = 1000

// shardFlag is --shard of import:data, import and sync.
func shardFlag() cli.Flag {
	return &cli.StringFlag{Name: "shard", Usage: "K/N: only the orgs of part K of N (by org id), for N parallel jobs each with its own credentials and log directory (else " + shardEnv + ")"}
}

// checkShard parses a --shard or BBIMPORT_SHARD value; from names which.
func checkShard(from, raw string, maxN int) (importer.Shard, error) {
	s, err := importer.ParseShard(raw, maxN)
	if errors.Is(err, importer.ErrShardFromZero) {
		msg := strings.TrimSuffix(err.Error(), ": "+importer.ErrShardFromZero.Error())
		return s, usagef("%s=%s (add 1 to a 0-based index such as JOB_COMPLETION_INDEX or BITBUCKET_PARALLEL_STEP)", from, msg)
	}
	if err != nil {
		return s, usagef("%s=%v", from, err)
	}
	return s, nil
}

// shardSetting resolves --shard, else BBIMPORT_SHARD, and notes it in the
// stage's summary; the zero Shard is the whole estate.
func (b *binding) shardSetting() (importer.Shard, error) {
	raw, from := b.c.String("shard"), "--shard"
	if !b.c.IsSet("shard") {
		raw, from = b.getenv(shardEnv), shardEnv
	}
	if raw == "" {
		return importer.Shard{}, nil
	}
	s, err := checkShard(from, raw, int(valueRules["shard"].max))
	b.io.Stage.shard = s.String()
	return s, err
}

// printShard says, on stdout before the stage's own summary, which part
// ran and how much of the input it left to the other parts.
func printShard(out io.Writer, shard string, mine, others int, what string) {
	if shard == "" {
		return
	}
	fmt.Fprintf(out, "Shard %s: %d of %s in this shard, %d left to the other shards.\n",
		shard, mine, english.Plural(mine+others, what), others)
}
