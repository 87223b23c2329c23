locals {   
  a = 1   
}