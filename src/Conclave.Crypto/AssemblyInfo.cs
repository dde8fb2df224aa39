namespace Conclave.Crypto;
