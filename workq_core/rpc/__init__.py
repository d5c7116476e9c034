"""gRPC between services: generated AuthService stubs, and the client other services use."""
