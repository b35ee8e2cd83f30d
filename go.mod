module github.com/stepwell/stepwell

go 1.26
