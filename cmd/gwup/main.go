package main

import "os"

var version = "dev"

func main() { os.Exit(0) }
