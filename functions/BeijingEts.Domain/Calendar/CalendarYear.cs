namespace BeijingEts.Domain.Calendar;

/// <summary>
/// One year of the State Council holiday notice: the days off and the make-up working weekend days (调休).
/// </summary>
public sealed record CalendarYear(int Year, string Source, IReadOnlySet<DateOnly> Holidays, IReadOnlySet<DateOnly> MakeupWorkdays)
{
    /// <summary>Checks that the notice is internally consistent; returns every problem, or none.</summary>
    public static IReadOnlyList<string> Validate(int year, IEnumerable<DateOnly> holidays, IEnumerable<DateOnly> makeupWorkdays)
    {
        var problems = new List<string>();
        var holidayList = holidays.ToList();
        var makeupList = makeupWorkdays.ToList();
        foreach (var day in holidayList.Concat(makeupList).Where(d => d.Year != year).Distinct())
        {
            problems.Add($"{day:yyyy-MM-dd} is not in {year}; a calendar year holds only its own days.");
        }
        foreach (var day in holidayList.GroupBy(d => d).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            problems.Add($"holiday {day:yyyy-MM-dd} is listed twice.");
        }
        foreach (var day in makeupList.GroupBy(d => d).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            problems.Add($"make-up working day {day:yyyy-MM-dd} is listed twice.");
        }
        foreach (var day in makeupList.Where(d => !IsWeekend(d)))
        {
            problems.Add($"make-up working day {day:yyyy-MM-dd} is a {day.DayOfWeek}; only a Saturday or Sunday can be made a working day.");
        }
        foreach (var day in makeupList.Intersect(holidayList))
        {
            problems.Add($"{day:yyyy-MM-dd} is listed both as a holiday and as a make-up working day.");
        }
        return problems;
    }

    internal static bool IsWeekend(DateOnly day) => day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
}
