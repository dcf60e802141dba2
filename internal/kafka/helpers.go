package kafka

import "net"

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// strPtr is nil for "", as Kafka's nullable strings are for unset values.
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c *conn) remoteHost() string {
	host, _, err := net.SplitHostPort(c.nc.RemoteAddr().String())
	if err != nil {
		return c.nc.RemoteAddr().String()
	}
	return "/" + host
}
