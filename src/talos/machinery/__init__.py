"""The public SDK: config, PKI, client, resources. Imports no node component."""
