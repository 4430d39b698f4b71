module github.com/leadgate/scrm-gateway

go 1.26.8
