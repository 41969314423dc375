"""Filiera's web client: server-rendered pages for foreign buyers, applicants and the member companies' people. A
client of the gateway like any mobile app: it calls only the public APIs under /api/, with the person's token."""
