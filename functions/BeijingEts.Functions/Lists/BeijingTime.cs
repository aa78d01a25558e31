namespace BeijingEts.Functions.Lists;

/// <summary>Dates in the Measures are Beijing dates (UTC+8, no daylight saving).</summary>
public static class BeijingTime
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    public static DateOnly Today(TimeProvider clock) => DateOnly.FromDateTime(clock.GetUtcNow().ToOffset(Offset).DateTime);
}
