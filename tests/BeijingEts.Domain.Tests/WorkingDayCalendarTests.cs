using BeijingEts.Domain.Calendar;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class WorkingDayCalendarTests
{
    private static readonly WorkingDayCalendar Calendar = Load();

    private static WorkingDayCalendar Load()
    {
        using var stream = typeof(WorkingDayCalendarTests).Assembly.GetManifestResourceStream("cn-workdays.json")!;
        return new WorkingDayCalendar(CalendarFile.Parse(stream));
    }

    private static DateOnly D(string iso) => DateOnly.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void SevenWorkingDays_AcrossThe2026SpringFestival_CountTheMakeupSaturdays()
    {
        // Feb 13 (Fri), 14 (make-up Sat), holiday 15-23, then 24, 25, 26, 27, 28 (make-up Sat).
        Assert.Equal(D("2026-02-28"), Calendar.AddWorkingDays(D("2026-02-12"), 7));
    }

    [Fact]
    public void SevenWorkingDays_FromTheLastDayBeforeTheHoliday_LandAfterIt()
    {
        // From the make-up Saturday Feb 14: Feb 24, 25, 26, 27, 28 (Sat, make-up), Mar 2, Mar 3.
        Assert.Equal(D("2026-03-03"), Calendar.AddWorkingDays(D("2026-02-14"), 7));
    }

    [Theory]
    [InlineData("2026-02-14", true)]   // make-up Saturday
    [InlineData("2026-02-15", false)]  // Spring Festival, a Sunday
    [InlineData("2026-02-16", false)]  // Spring Festival, a Monday
    [InlineData("2026-02-23", false)]  // last holiday, a Monday
    [InlineData("2026-02-24", true)]
    [InlineData("2026-02-28", true)]   // make-up Saturday
    [InlineData("2026-03-01", false)]  // ordinary Sunday
    [InlineData("2025-01-26", true)]   // 2025 make-up Sunday
    [InlineData("2024-10-07", false)]  // National Day 2024
    public void IsWorkingDay_FollowsTheNotice(string day, bool expected)
    {
        Assert.Equal(expected, Calendar.IsWorkingDay(D(day)));
    }

    [Fact]
    public void AddingAcrossIntoAYearWithNoCalendar_NamesThatYear()
    {
        var error = Assert.Throws<CalendarYearMissingException>(() => Calendar.AddWorkingDays(D("2026-12-24"), 20));
        Assert.Equal(2027, error.Year);
        Assert.Contains("2027", error.Message);
    }

    [Fact]
    public void NegativeCount_GoesBackwardsOverHolidays()
    {
        Assert.Equal(D("2026-02-14"), Calendar.AddWorkingDays(D("2026-02-24"), -1));
        Assert.Equal(D("2026-02-12"), Calendar.AddWorkingDays(D("2026-02-28"), -7));
    }

    [Fact]
    public void ZeroDays_IsTheStartDay()
    {
        Assert.Equal(D("2026-02-16"), Calendar.AddWorkingDays(D("2026-02-16"), 0));
    }

    [Fact]
    public void AddThenCount_AgreeForEveryStartDayAndCountIn2025()
    {
        // Property: counting the working days in (start, start + n] gives back n, and the result is a working day.
        for (var start = D("2025-01-01"); start <= D("2025-11-30"); start = start.AddDays(1))
        {
            foreach (var n in new[] { 1, 7, 10, 20 })
            {
                var end = Calendar.AddWorkingDays(start, n);
                Assert.True(Calendar.IsWorkingDay(end), $"{start} + {n} = {end} is not a working day");
                Assert.Equal(n, Calendar.CountWorkingDays(start, end));
            }
        }
    }

    [Fact]
    public void EachYear_HasTheWorkingDayCountOfItsNotice()
    {
        // Counted independently from the notices: 2024 has 251 working days, 2025 and 2026 have 248 each.
        Assert.Equal(251, Calendar.CountWorkingDays(D("2023-12-31"), D("2024-12-31")));
        Assert.Equal(248, Calendar.CountWorkingDays(D("2024-12-31"), D("2025-12-31")));
        Assert.Equal(248, Calendar.CountWorkingDays(D("2025-12-31"), D("2026-12-31")));
    }

    [Fact]
    public void Validate_ReportsEveryInconsistency()
    {
        var problems = CalendarYear.Validate(2027,
            [D("2027-10-01"), D("2027-10-01"), D("2028-01-01")],
            [D("2027-10-01"), D("2027-10-13")]);

        Assert.Contains(problems, p => p.Contains("2028-01-01 is not in 2027"));
        Assert.Contains(problems, p => p.Contains("holiday 2027-10-01 is listed twice"));
        Assert.Contains(problems, p => p.Contains("2027-10-13 is a Wednesday"));
        Assert.Contains(problems, p => p.Contains("both as a holiday and as a make-up working day"));
    }
}
