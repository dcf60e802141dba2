// Package config owns Tern's node configuration: one Config struct, the
// embedded Default that lets `tern serve` run with no flags, Validate, and
// Load, which layers a config file, TERN_* environment variables and
// command-line flags over the default (flags win).
//
// Every knob is declared once in the settings table (load.go); the file
// key, the flag name and the environment variable are all derived from that
// one entry. The package imports only the standard library.
package config
