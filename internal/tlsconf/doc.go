// Package tlsconf builds the TLS configuration of every TLS listener
// (Kafka SSL and SASL_SSL, amqps, HTTPS) from PEM files, and reloads the
// certificate, key and client CAs when the files change, so renewing a
// certificate needs no restart. It also names the peer of a mutual-TLS
// connection: the common name of its verified certificate is the user,
// for AMQP's EXTERNAL mechanism and Kafka's SSL principal.
//
// It knows nothing of protocols or of the broker.
package tlsconf
