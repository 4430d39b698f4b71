// Package modeltest opens real databases for tests: in-memory SQLite and a
// fresh MariaDB/MySQL database per test. MariaDB is found through
// GATEWAY_TEST_MYSQL_DSN (default root@tcp(127.0.0.1:3306)/); when it is
// unreachable the MySQL half of a test skips, unless
// GATEWAY_TEST_MYSQL_REQUIRED=1 (CI sets it), which turns that into a failure.
package modeltest
