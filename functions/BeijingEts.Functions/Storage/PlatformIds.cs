namespace BeijingEts.Functions.Storage;

/// <summary>Ids the platform makes for its records (a GUID, 32 lowercase hex digits); a guard row's key ("open-...") or any other text is never one.</summary>
public static class PlatformIds
{
    public static string New() => Guid.NewGuid().ToString("N");

    public static bool IsValid(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);
}
