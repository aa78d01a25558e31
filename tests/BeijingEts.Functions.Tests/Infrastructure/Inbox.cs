namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>A party's notices, read as the party reads them: GET /api/notifications with its own token.</summary>
public static class Inbox
{
    /// <summary>The party's notice with the id, or null when it has none.</summary>
    public static async Task<JsonElement?> NoticeAsync(this HttpClient party, string id) =>
        (await party.GetFromJsonAsync<JsonElement>("/api/notifications", TestContext.Current.CancellationToken)).GetProperty("notifications").EnumerateArray()
            .Where(n => n.GetProperty("id").GetString() == id).Select(n => (JsonElement?)n).FirstOrDefault();

    /// <summary>The party's notices of the kind, newest first.</summary>
    public static async Task<IReadOnlyList<JsonElement>> NoticesAsync(this HttpClient party, string kind) =>
        (await party.GetFromJsonAsync<JsonElement>("/api/notifications", TestContext.Current.CancellationToken)).GetProperty("notifications").EnumerateArray()
            .Where(n => n.GetProperty("kind").GetString() == kind).ToList();
}
