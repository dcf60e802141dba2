// Package archtest holds tests that enforce Tern's architecture: which
// layer may import which (the storage engine knows no protocol, the core
// no wire types, adapters not each other) and which calls library code may
// not make. It has no non-test code.
package archtest
