// Package config loads the gateway's typed configuration: defaults in code, a
// YAML file on top, GATEWAY_* environment variables on top of that (with _FILE
// variants for secrets), and Validate() with messages naming the key and why.
package config
