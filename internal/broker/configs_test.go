package broker

import (
	"errors"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/storage"
)

func TestStorageConfigFromTopicConfigs(t *testing.T) {
	entries := func(kv ...string) []ConfigEntry {
		var out []ConfigEntry
		for i := 0; i < len(kv); i += 2 {
			out = append(out, ConfigEntry{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name      string
		in        []ConfigEntry
		retention time.Duration
		bytes     int64
		policy    storage.CleanupPolicy
	}{
		{"delete policy keeps retention", entries("retention.ms", "60000", "retention.bytes", "100", "cleanup.policy", "delete"), time.Minute, 100, storage.CleanupDelete},
		// Storage applies time and size only with delete in the policy.
		{"compact-only never trims", entries("retention.ms", "60000", "retention.bytes", "100", "cleanup.policy", "compact"), time.Minute, 100, storage.CleanupCompact},
		{"compact,delete trims", entries("retention.ms", "60000", "retention.bytes", "100", "cleanup.policy", "compact,delete"), time.Minute, 100, storage.CleanupCompact | storage.CleanupDelete},
		{"delete, compact", entries("cleanup.policy", " delete , compact"), 7 * 24 * time.Hour, -1, storage.CleanupCompact | storage.CleanupDelete},
		{"unlimited", entries("retention.ms", "-1", "retention.bytes", "-1"), -1, -1, storage.CleanupDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := storageConfig(tc.in)
			if c.RetentionAge != tc.retention || c.RetentionBytes != tc.bytes || c.Cleanup != tc.policy {
				t.Fatalf("retention %v/%d policy %b, want %v/%d %b", c.RetentionAge, c.RetentionBytes, c.Cleanup, tc.retention, tc.bytes, tc.policy)
			}
		})
	}
}

func TestApplyConfigOps(t *testing.T) {
	known := func(k string) (bool, bool) { return k == "a" || k == "list", k == "list" }
	tests := []struct {
		name    string
		cur     map[string]string
		ops     []ConfigOp
		replace bool
		want    map[string]string
		err     error
	}{
		{"set and delete", map[string]string{"a": "1"}, []ConfigOp{{Name: "list", Value: "x", Op: OpSet}, {Name: "a", Op: OpDelete}}, false, map[string]string{"list": "x"}, nil},
		{"replace drops the rest", map[string]string{"a": "1", "list": "x"}, []ConfigOp{{Name: "a", Value: "2", Op: OpSet}}, true, map[string]string{"a": "2"}, nil},
		{"append and subtract", map[string]string{"list": "x,y"}, []ConfigOp{{Name: "list", Value: "z", Op: OpAppend}, {Name: "list", Value: "x", Op: OpSubtract}}, false, map[string]string{"list": "y,z"}, nil},
		{"append to a scalar", nil, []ConfigOp{{Name: "a", Value: "z", Op: OpAppend}}, false, nil, ErrInvalidConfig},
		{"unknown name", nil, []ConfigOp{{Name: "b", Value: "1", Op: OpSet}}, false, nil, ErrInvalidConfig},
		{"unknown op", nil, []ConfigOp{{Name: "a", Value: "1", Op: 9}}, false, nil, ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyOps(tc.cur, tc.ops, tc.replace, known)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestValidateTopicName(t *testing.T) {
	for name, ok := range map[string]bool{
		"orders": true, "a.b_c-D9": true, "": false, ".": false, "..": false,
		"has space": false, "slash/y": false, "__consumer_offsets": false, "__cluster_metadata": false,
		string(make([]byte, 250)): false,
	} {
		if err := ValidateTopicName(name); (err == nil) != ok {
			t.Errorf("ValidateTopicName(%q) = %v", name, err)
		}
	}
}
