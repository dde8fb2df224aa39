namespace Conclave.Client;
