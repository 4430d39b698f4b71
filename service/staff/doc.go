// Package staff is each corp's WeCom address book as the gateway keeps it:
// the staff directory read from WeCom (user/list, department/list) and
// cached in the database, the names and departments the console's pickers
// show, and the check that a userid in admin input is a staff member
// (a 400 naming the field otherwise).
//
// It imports model, wecom (through livecode.Clients) and the shared
// packages below it (apierr, wire, livecode).
package staff
