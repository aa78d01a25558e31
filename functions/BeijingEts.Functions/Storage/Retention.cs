namespace BeijingEts.Functions.Storage;

/// <summary>Art. 22: report data and its supporting documents are kept at least 5 years.</summary>
public static class Retention
{
    /// <summary>A record or document is kept to the end of the fifth year after it was made.</summary>
    public static DateOnly Until(DateTimeOffset createdAt) => new(createdAt.Year + 5, 12, 31);
}
