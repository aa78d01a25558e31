using System.Text.Json;
using System.Text.Json.Serialization;

namespace BeijingEts.Domain.Calendar;

/// <summary>The JSON shape of cn-workdays.json: {"years": {"2026": {"source", "holidays", "makeupWorkdays"}}}.</summary>
public static class CalendarFile
{
    public sealed record YearDocument(
        [property: JsonPropertyName("source")] string? Source,
        [property: JsonPropertyName("holidays")] IReadOnlyList<DateOnly> Holidays,
        [property: JsonPropertyName("makeupWorkdays")] IReadOnlyList<DateOnly> MakeupWorkdays);

    private sealed record FileDocument([property: JsonPropertyName("years")] Dictionary<string, YearDocument> Years);

    public static IReadOnlyList<CalendarYear> Parse(Stream json)
    {
        var file = JsonSerializer.Deserialize<FileDocument>(json)
            ?? throw new InvalidDataException("The working-day file is empty.");
        return file.Years.Select(pair => ToYear(int.Parse(pair.Key, System.Globalization.CultureInfo.InvariantCulture), pair.Value)).ToList();
    }

    public static CalendarYear ToYear(int year, YearDocument document)
    {
        var problems = CalendarYear.Validate(year, document.Holidays, document.MakeupWorkdays);
        if (problems.Count > 0)
        {
            throw new InvalidDataException($"Calendar {year} is inconsistent: {string.Join(" ", problems)}");
        }
        return new CalendarYear(year, document.Source ?? "", document.Holidays.ToHashSet(), document.MakeupWorkdays.ToHashSet());
    }
}
