locals {
  a = 1 # one
  bbb = 22 # two
  c = [1, 2] /* three */

  d = 4 # alone
}
