using System.Security.Cryptography;
using System.Text;

namespace BeijingEts.Functions.Storage;

/// <summary>Short ids fixed by a text: the lower-case hex of the SHA-256 of its UTF-8 bytes, cut to the length asked.</summary>
public static class Digest
{
    public static string Hex(string text, int length) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..length];
}
