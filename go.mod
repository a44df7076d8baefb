module github.com/doggogan/doggogan

go 1.24.0
