// Command gateway runs the WeCom SCRM integration gateway.
//
//	gateway [-config FILE]                 serve (the default)
//	gateway migrate [-config FILE]         apply database migrations and exit
//	gateway webhook-test --url URL         send a signed test event to a CRM endpoint
//	gateway token create --role R --name N print a new admin-API token once
package main
