package netif

import (
	"errors"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"eth0", true},
		{"a", true},
		{"enp0s31f6", true},
		{"bond0.100", true},
		{"x-_@+=#%", true},
		{"123456789012345", true},
		{"1234567890123456", false},
		{"", false},
		{".", false},
		{"..", false},
		{"...", true},
		{"eth0:vip", false},
		{"eth/0", false},
		{"eth 0", false},
		{"eth\t0", false},
		{"eth0\n", false},
		{"eth\v0", false},
		{"ünï", true},       // 5 bytes; the kernel accepts any non-space byte
		{"üüüüüüüü", false}, // 16 bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidName(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidName) {
				t.Errorf("error %v does not wrap ErrInvalidName", err)
			}
		})
	}
}
