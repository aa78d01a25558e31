namespace BeijingEts.Domain.Calendar;

/// <summary>
/// Mainland China working days: Monday to Friday unless a holiday, plus the make-up weekend days.
/// Deadlines counted in working days (Art. 8: 20; Art. 15: 7 and 10) use this and nothing else.
/// </summary>
public sealed class WorkingDayCalendar
{
    private readonly IReadOnlyDictionary<int, CalendarYear> _years;

    public WorkingDayCalendar(IEnumerable<CalendarYear> years)
    {
        _years = years.ToDictionary(y => y.Year);
    }

    public IEnumerable<int> Years => _years.Keys.Order();

    public bool HasYear(int year) => _years.ContainsKey(year);

    public bool IsWorkingDay(DateOnly day)
    {
        var year = YearOf(day);
        if (year.MakeupWorkdays.Contains(day))
        {
            return true;
        }
        return !CalendarYear.IsWeekend(day) && !year.Holidays.Contains(day);
    }

    /// <summary>Why a day is or is not a working day, in the words a caller would check against the notice.</summary>
    public string Explain(DateOnly day)
    {
        var year = YearOf(day);
        if (year.MakeupWorkdays.Contains(day)) return "make-up working day";
        if (year.Holidays.Contains(day)) return "public holiday";
        return CalendarYear.IsWeekend(day) ? "weekend" : "weekday";
    }

    /// <summary>
    /// The working day that is <paramref name="workingDays"/> working days after <paramref name="start"/>
    /// (the start day itself is not counted). Negative counts go backwards; zero returns the start.
    /// </summary>
    public DateOnly AddWorkingDays(DateOnly start, int workingDays)
    {
        var step = Math.Sign(workingDays);
        var remaining = Math.Abs(workingDays);
        var day = start;
        while (remaining > 0)
        {
            day = day.AddDays(step);
            if (IsWorkingDay(day))
            {
                remaining--;
            }
        }
        return day;
    }

    /// <summary>Working days in (from, to]: how many working days a period took.</summary>
    public int CountWorkingDays(DateOnly from, DateOnly to)
    {
        if (to < from) return -CountWorkingDays(to, from);
        var count = 0;
        for (var day = from.AddDays(1); day <= to; day = day.AddDays(1))
        {
            if (IsWorkingDay(day)) count++;
        }
        return count;
    }

    private CalendarYear YearOf(DateOnly day) =>
        _years.TryGetValue(day.Year, out var year) ? year : throw new CalendarYearMissingException(day.Year);
}
