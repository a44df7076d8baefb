module github.com/doggogan/doggogan

go 1.24.0

require golang.org/x/image v0.36.0
