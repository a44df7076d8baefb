module github.com/doggogan/doggogan

go 1.24.0

require github.com/nlpodyssey/gopickle v0.2.0
